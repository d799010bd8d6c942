"""Reporting levels of a unit, bottom-up in each of the two registers, with their names."""

LEVEL_NAMES = {
    "firm": "律师事务所党组织",
    "city": "市级律师行业党委",
    "province": "省级律师行业党委",
    "national": "全国律师行业党委",
    "society-county": "县（区）法学会",
    "society-city": "市法学会",
    "society-province": "省法学会",
}
LEVELS = tuple(LEVEL_NAMES)
