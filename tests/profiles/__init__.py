"""Pure tests of the inverter profiles."""
