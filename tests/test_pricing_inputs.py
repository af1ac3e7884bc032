"""Planning inputs: which elasticity each SKU is planned with (own estimate, category pool, held)."""
import numpy as np
import pandas as pd

from model.pricing.inputs import _elasticity_columns, response_used


def test_flagged_sku_without_an_estimate_is_marked_down_on_its_category_pool():
    skus = pd.DataFrame({"sku_id": ["own", "pooled", "held", "positive"],
                         "elasticity": [-2.0, np.nan, np.nan, 0.3], "se": [0.2, np.nan, np.nan, 0.5],
                         "identifiable": [True, False, False, True], "category_mean": [-1.8, -1.8, -1.8, -1.8],
                         "pooled_se": [0.4, 0.4, 0.4, 0.4], "clearance": [True, True, False, False]})
    r = response_used(skus)
    assert list(r["elasticity_source"]) == ["own", "category_pooled", "held", "held"]
    assert np.allclose(r["elasticity"], [-2.0, -1.8, 0.0, 0.0])
    assert np.allclose(r["elasticity_se"][:2], [0.2, 0.4]) and np.isnan(r["elasticity_se"][2:]).all()
    assert list(r["hold"]) == [False, False, True, True]


def test_pooled_se_is_the_category_spread_and_the_mean_uncertainty():
    est = pd.DataFrame({"sku_id": ["a", "b", "c", "d"], "elasticity": [-1.0, -2.0, -3.0, np.nan],
                        "se": [0.1, 0.1, 0.1, np.nan], "identifiable": [True, True, True, False],
                        "category": ["c1"] * 4, "category_mean": [-2.0] * 4, "category_se": [0.3] * 4})
    out = _elasticity_columns(est).set_index("sku_id")
    assert np.allclose(out["pooled_se"], np.sqrt(1.0 ** 2 + 0.3 ** 2))   # sd of −1, −2, −3 is 1
