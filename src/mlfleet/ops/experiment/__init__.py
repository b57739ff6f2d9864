"""Experimentation statistics: traffic splitting, SRM, Welch, bootstrap, CUPED, sequential tests, interleaving."""
