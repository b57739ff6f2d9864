"""``mlfleet run``: real executions that chapters register (collectives, compression;
training and data loading next). See :mod:`mlfleet.run.cli`."""
