"""Sub-commands of `gim`, one module per area; wired into the app by `gim_dagster.cli`."""
