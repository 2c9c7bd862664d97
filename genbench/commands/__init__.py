"""Sub-commands of the ``genbench`` CLI, one module per group (see ``genbench.cli``)."""
