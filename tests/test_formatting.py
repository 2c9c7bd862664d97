"""genbench.formatting: the one number formatter evaluate's table, the report, figures and the gate use."""

import math

from genbench.formatting import number, rounded, value_std


def test_number():
    assert number(None) == "–" and number(math.nan) == "nan" and number(math.inf) == "inf"
    assert number(3.0) == "3" and number(-12) == "-12" and number(0.0) == "0"
    assert number(12.3456) == "12.35" and number(0.123456) == "0.1235" and number(1234.56) == "1234.6"
    assert number(0.0001234) == "1.23e-04" and number(123456.7) == "1.23e+05"
    # fixed: trailing zeros kept, so a right-aligned column lines up
    assert number(12.5, fixed=True) == "12.50" and number(0.001, fixed=True) == "0.0010"
    assert number(9.7, fixed=True) == "9.7000" and number(3.0, fixed=True) == "3"


def test_value_std():
    assert value_std(12.3456, 0.5) == "12.35 ± 0.50"  # two significant figures of the ±, value to that decimal
    assert value_std(None, None) == "–" and value_std(math.nan, 1.0) == "–" and value_std(3.0, None) == "3"
    assert value_std(0.0001234, 0.0) == "1.23e-04"
    # a spread below float noise (KID subsets that are all the whole set) is no uncertainty
    assert value_std(3.763, 1.58e-15) == "3.763" and value_std(1.0, 5.95e-8) == "1"


def test_rounded_to_the_uncertainty():
    # hand-rounded: the std to two significant figures, the mean to the std's last decimal
    assert rounded(12.3456, 0.5123) == ("12.35", "0.51")
    assert rounded(0.5, 0.0123) == ("0.500", "0.012")  # trailing zeros are significant
    assert rounded(3.14159, 0.0996) == ("3.14", "0.10")  # 0.0996 rounds up to the next decade
    assert rounded(1234.5, 567.0) == ("1230", "570")  # std above 10: the mean rounds to tens
    assert rounded(87.123, 12.34) == ("87", "12")
    assert rounded(-0.004, 0.5) == ("0.00", "0.50")  # no "-0.00"
    assert rounded(0.0001234, 5.6e-6) == ("1.234e-04", "0.056e-04")  # tiny: one shared exponent
    assert rounded(7.0, None) == ("7", None) and rounded(None, 1.0) == ("–", None)
    assert rounded(3.763, 1.58e-15) == ("3.763", None)
