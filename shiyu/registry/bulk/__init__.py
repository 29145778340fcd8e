"""Bulk import of persons, houses and units from XLSX/CSV extracts (公安, 民政, 市场监管): every row checked and
reported, then all rows written or none (``shiyu import persons|houses|units FILE``)."""
