"""gim-dagster: Genesys Info Mart style reporting back end on Dagster."""

__version__ = "0.1.0"
