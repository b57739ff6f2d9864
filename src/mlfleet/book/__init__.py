"""``mlfleet book``: the spec's quantitative-analysis items as tables that cannot drift."""
