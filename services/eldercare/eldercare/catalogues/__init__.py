"""Service catalogues (基本养老服务清单): the city pack, county overrides, their checks."""
