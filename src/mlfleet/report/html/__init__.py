"""The HTML report: the plan of every chapter and the plots, as one self-contained file."""
