"""Grading (评分定级): totals, competition ranking and grades A–D by a city's scheme."""
