"""Command-line front end: the one place that maps errors to exit codes and hints."""
