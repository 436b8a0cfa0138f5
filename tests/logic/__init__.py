"""Tests of the pure core of the export monitor."""
