"""scaleplan's business models: SSOT, forecasting, inventory, pricing, workforce, simulation, signals."""
