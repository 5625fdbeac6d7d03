"""python -m ads_elt.alerts ack|snooze|resolve|list (see ads_elt.alerts.states)."""

from ads_elt.alerts import states as alert_states

raise SystemExit(alert_states.main())
