"""The real data path: write a dataset, load it with worker processes, measure samples/s."""
