"""The Streamlit script of the app (``streamlit run evaluation/app/main.py``).

``python -m evaluation.app`` starts it; this file only registers the three pages, so
each page keeps its own URL (``/pooled``, ``/leaderboard``, ``/episode``).
"""

from __future__ import annotations

import streamlit as st

from evaluation.app import episode_page, leaderboard_page, pooled_page

st.set_page_config(page_title="coalition markets", layout="wide")
st.navigation(
    [
        st.Page(pooled_page.render, title="Pooled procurement", url_path="pooled", default=True),
        st.Page(leaderboard_page.render, title="Leaderboard explorer", url_path="leaderboard"),
        st.Page(episode_page.render, title="Episode viewer", url_path="episode"),
    ]
).run()
