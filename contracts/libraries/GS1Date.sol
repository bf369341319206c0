// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title GS1Date
/// @notice Converts GS1 dates (YYMMDD, as in AI 17 expiry) to timestamps.
/// @dev Years are read as 20YY. Day 00 means the last day of the month (GS1 General
/// Specifications, AI 17). A date "expires" at the end of its day, 23:59:59 UTC.
library GS1Date {
    /// @notice Returns the last second (UTC) of the day `yymmdd`, or 0 when it is not a valid date.
    function endOfDay(uint32 yymmdd) internal pure returns (uint40) {
        uint256 year = 2000 + yymmdd / 10000;
        uint256 month = (yymmdd / 100) % 100;
        uint256 day = yymmdd % 100;
        if (yymmdd > 991231 || month == 0 || month > 12) return 0;
        uint256 lastDay = daysInMonth(year, month);
        if (day == 0) day = lastDay;
        if (day > lastDay) return 0;
        return uint40((daysFromCivil(year, month, day) + 1) * 1 days - 1);
    }

    /// @notice Returns whether GS1 dates `a` and `b` name the same day: YYMM00 and YYMM<last day>
    /// of that month are the same date.
    /// @dev `b` must be a valid date (a registered lot's expiry); `a` may be anything scanned.
    function sameDay(uint32 a, uint32 b) internal pure returns (bool) {
        if (a == b) return true;
        if (a / 100 != b / 100) return false;
        uint256 lastDay = daysInMonth(2000 + b / 10000, (b / 100) % 100);
        uint256 dayA = a % 100;
        uint256 dayB = b % 100;
        return (dayA == 0 ? lastDay : dayA) == (dayB == 0 ? lastDay : dayB);
    }

    /// @notice Returns the number of days in `month` of `year`.
    function daysInMonth(uint256 year, uint256 month) internal pure returns (uint256) {
        if (month == 2) return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
        return (month == 4 || month == 6 || month == 9 || month == 11) ? 30 : 31;
    }

    /// @notice Returns the days since 1970-01-01 of a Gregorian date in or after 2000.
    /// @dev Howard Hinnant's days_from_civil for non-negative eras; year >= 2000 keeps all
    /// intermediate values non-negative.
    function daysFromCivil(uint256 year, uint256 month, uint256 day) internal pure returns (uint256) {
        if (month <= 2) year -= 1;
        uint256 era = year / 400;
        uint256 yoe = year - era * 400;
        uint256 mp = month > 2 ? month - 3 : month + 9;
        uint256 doy = (153 * mp + 2) / 5 + day - 1;
        uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }
}
