"""Load, solar and wind profiles: the synthetic generator, the sector table and the real data
shipped by pvlib, demandlib and windpowerlib.
"""
