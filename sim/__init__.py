"""Simulated home energy plant (PV, load, battery, inverter, meters) for the export monitor."""
