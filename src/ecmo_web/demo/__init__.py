"""The synthetic demo program (``ecmo seed-demo``). Everything here is invented; see docs/demo.md."""
