"""The cash budget can never demand un-buying stock already held or on order."""
import numpy as np

from model.inventory.planner import committed_value


def test_committed_value_by_hand():
    cost = np.array([2.0, 10.0])
    on_hand = np.array([5.0, 1.0])
    scheduled = np.array([[0.0, 4.0, 0.0], [0.0, 0.0, 3.0]])
    demand = np.array([[3.0, 3.0, 10.0], [2.0, 0.0, 1.0]])
    # SKU 0 end stock: 2, 3, 0 (after receipts 5, 6, 3); SKU 1: 0, 0, 2 (after receipts 1, 0, 3)
    v = committed_value(cost, on_hand, scheduled, demand)
    np.testing.assert_allclose(v, [2 * 5 + 10 * 1, 2 * 6 + 10 * 0, 2 * 3 + 10 * 3])
