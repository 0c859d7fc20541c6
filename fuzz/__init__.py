"""Coverage-guided fuzzing harnesses (atheris) for the parsers that take outside input; run by ``make fuzz``."""
