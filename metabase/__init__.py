"""Metabase as code: `python -m metabase.provision` (metabase/provision.py); the cards' SQL in metabase/cards/."""
