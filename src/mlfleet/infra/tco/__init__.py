"""Total cost of ownership: owning GPUs (capex, opex, refresh) vs renting them (on-demand,
reserved, spot), break-even, power-price sensitivity, and the scaling fallacy.

See ``docs/infrastructure-tco.md``; ``mlfleet infra tco --help`` for the commands, and
:func:`mlfleet.infra.tco.ownership.monthly_cost` for the plan's monthly cost.
"""
