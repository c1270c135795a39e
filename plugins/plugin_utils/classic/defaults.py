# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Nebari Classic used where nebari-config.yaml says nothing: its profiles and environments
(nebari-dev/nebari src/_nebari/stages/kubernetes_services/__init__.py)."""

from __future__ import annotations


def profiles(kind):
    """Classic's profiles when the file has none (kubernetes_services Profiles)."""
    if kind == "jupyterlab":
        return [{"display_name": "Small Instance", "description": "Stable environment with 2 cpu / 8 GB ram",
                 "default": True, "kubespawner_override": {"cpu_limit": 2, "cpu_guarantee": 1.5, "mem_limit": "8G",
                                                           "mem_guarantee": "5G"}},
                {"display_name": "Medium Instance", "description": "Stable environment with 4 cpu / 16 GB ram",
                 "kubespawner_override": {"cpu_limit": 4, "cpu_guarantee": 3, "mem_limit": "16G",
                                          "mem_guarantee": "10G"}}]
    return {"Small Worker": {"worker_cores_limit": 2, "worker_cores": 1.5, "worker_memory_limit": "8G",
                             "worker_memory": "5G", "worker_threads": 2},
            "Medium Worker": {"worker_cores_limit": 4, "worker_cores": 3, "worker_memory_limit": "16G",
                              "worker_memory": "10G", "worker_threads": 4}}


def environments(version):
    """Classic's environments when the file has none: dask and dashboard, as Classic 2024.1.1 and later build them."""
    return {"environment-dask.yaml": {"name": "dask", "channels": ["conda-forge"], "dependencies": [
        "python==3.11.6", "ipykernel==6.26.0", "ipywidgets==8.1.1", "nebari-dask==%s" % version, "python-graphviz==0.20.1",
        "pyarrow==14.0.1", "s3fs==2023.10.0", "gcsfs==2023.10.0", "numpy=1.26.0", "numba=0.58.1", "pandas=2.1.3",
        "xarray==2023.10.1"]},
        "environment-dashboard.yaml": {"name": "dashboard", "channels": ["conda-forge"], "dependencies": [
            "python==3.11.6", "cufflinks-py==0.17.3", "dash==2.14.1", "geopandas==0.14.1", "geopy==2.4.0",
            "geoviews==1.11.0", "gunicorn==21.2.0", "holoviews==1.18.1", "ipykernel==6.26.0", "ipywidgets==8.1.1",
            "jupyter==1.0.0", "jupyter_bokeh==3.0.7", "matplotlib==3.8.1", "nebari-dask==%s" % version, "nodejs=20.8.1",
            "numpy==1.26.0", "openpyxl==3.1.2", "pandas==2.1.3", "panel==1.3.1", "param==2.0.1", "plotly==5.18.0",
            "python-graphviz==0.20.1", "rich==13.6.0", "streamlit==1.28.1", "sympy==1.12", "voila==0.5.5",
            "xarray==2023.10.1", "pip==23.3.1", {"pip": [
                "streamlit-image-comparison==0.0.4", "noaa-coops==0.1.9", "dash_core_components==2.0.0",
                "dash_html_components==2.0.0"]}]}}
