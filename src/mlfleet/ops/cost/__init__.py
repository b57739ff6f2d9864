"""Cost attribution on the OpenCost model: workload + idle + overhead, shared-cost splits, chargeback, budgets."""
