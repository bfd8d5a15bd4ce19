"""Appraisal schemes (考核办法): one policy pack per city, loaded and checked."""
