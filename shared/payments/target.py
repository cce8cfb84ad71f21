"""TARGET2 business days: the days SEPA collections settle on.

TARGET is closed on Saturdays and Sundays, New Year's Day, Good Friday, Easter Monday, 1 May,
25 and 26 December (the ECB's calendar since 2002). Easter Sunday comes from the Gregorian
computus (Meeus/Jones/Butcher), so no table needs updating year by year.
"""

from __future__ import annotations

from datetime import date, timedelta


def easter_sunday(year: int) -> date:
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, leftover = divmod(century, 4)
    correction = (century + 8) // 25
    moon = (century - correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - moon + 15) % 30
    quarters, rest = divmod(year_of_century, 4)
    weekday = (32 + 2 * leftover + 2 * quarters - epact - rest) % 7
    shift = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * shift + 114, 31)
    return date(year, month, day + 1)


def holiday_name(day: date) -> str | None:
    """Why TARGET is closed on ``day``, or None on a business day."""
    if day.weekday() >= 5:
        return "Saturday" if day.weekday() == 5 else "Sunday"
    easter = easter_sunday(day.year)
    fixed = {
        (1, 1): "New Year's Day",
        (5, 1): "Labour Day",
        (12, 25): "Christmas Day",
        (12, 26): "Boxing Day",
    }
    moving = {
        easter - timedelta(days=2): "Good Friday",
        easter + timedelta(days=1): "Easter Monday",
    }
    return fixed.get((day.month, day.day)) or moving.get(day)


def is_business_day(day: date) -> bool:
    return holiday_name(day) is None


def next_business_day(day: date) -> date:
    """The first TARGET business day after ``day``."""
    following = day + timedelta(days=1)
    while not is_business_day(following):
        following += timedelta(days=1)
    return following


def business_day_on_or_after(day: date) -> date:
    return day if is_business_day(day) else next_business_day(day)
