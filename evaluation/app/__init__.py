"""The interactive web app (issue 17): ``python -m evaluation.app [--results DIR]``.

A Streamlit front end over the project's command-line tools, three pages:

* **Pooled procurement** (:mod:`.pooled`, :mod:`.pooled_page`): the seed's pooling tool
  on :mod:`evaluation.cfe` (the same 8 760-hour simulation and report as the CLI);
* **Leaderboard explorer** (:mod:`.leaderboard`, :mod:`.leaderboard_page`): a
  ``python -m evaluation.compare`` results folder;
* **Episode viewer** (:mod:`.episode`, :mod:`.episode_page`): one multi-market episode
  with :func:`evaluation.episode.run_episode`, its prices, merit order, dispatch,
  batteries and ledger.

The logic modules (no ``_page`` suffix) hold plain functions over numpy/pandas, tested
without a browser; the ``_page`` modules only lay out widgets and Plotly figures.
Streamlit and Plotly come with the ``app`` extra: ``pip install -e ".[app]"``.
"""

#: Environment variable through which ``--results`` reaches the Streamlit script.
RESULTS_ENV = "COALITION_MARKETS_RESULTS"
