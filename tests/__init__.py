"""Tests of the Energy Export Monitor."""
