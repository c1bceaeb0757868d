"""The whole hubnet stack on one machine, as `make run` starts it: broker, services and demo traffic."""
