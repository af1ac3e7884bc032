"""Inventory: classification, single-item policies, reorder points, the replenishment program, replay.

* :mod:`policies`        — textbook single-item policies (EOQ, newsvendor, base-stock, (r,Q), (s,S), Wagner–Whitin)
* :mod:`safety`          — reorder points / safety stock from forecast quantiles and lead-time variability
* :mod:`classify`        — ABC/XYZ, slow movers, dead stock, cash per class, recommended actions
* :mod:`lotsizing`       — exact per-SKU lot-sizing DP (vectorised), the DataFrame → DataFrame fan-out seam
* :mod:`replenishment`   — the capacity- and cash-constrained program by price decomposition, certified gap
* :mod:`replenishment_milp` — the monolithic MILP reference (small instances, diagnosis, benchmark)
* :mod:`evaluate`        — replay of the plan and a min/max baseline against demand paths
* :mod:`planner`         — SSOT + forecast → all of the above; used by :mod:`stage` and :mod:`commands`
* :mod:`synthetic`       — seeded instances with binding capacity and budget (tests, benchmark)
"""
