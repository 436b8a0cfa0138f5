"""Pure decisions of the export monitor: no Home Assistant imports, `now` passed in."""
