"""Package specs of conda-store environments: conda MatchSpec forms and pip requirements, good and garbled."""

import pytest

from ansible_collections.nebari.platform.plugins.module_utils.conda_store.package_spec import conda_problem, pip_problem

GOOD_CONDA = ["numpy", "_libgcc_mutex", "python 3.12", "numpy 1.2.*", "numpy 1.2.* py311*", "numpy=1.2",
              "numpy=1.2.*", "numpy==1.2", "numpy=1.2=py311_0", "numpy>=1.2,<2", "numpy >=1.2,<2", "numpy >= 1.2",
              "numpy>=1.2|<1.0", "numpy !=1.3", "numpy~=1.2", "numpy>1", "conda-forge::numpy",
              "conda-forge/linux-64::numpy>=1.26", "https://conda.anaconda.org/conda-forge::numpy",
              "numpy[version='>=1.2']", 'numpy[version=">=1.2,<2", build=py*]', "numpy[build_number=3]",
              "pytorch=2.4=*cuda*", "openssl 3.0.1+local", "python=3.12"]
BAD_CONDA = ["numpy>=>1", "numpy>==1.2", "numpy===1.2", "torch===", "numpy==", "numpy>=", "numpy=", "numpy=1.2=",
             "numpy>=1.2,", "numpy 1.2 py311 extra", "numpy 1.2.", "numpy[version='>=>1']", "numpy[colour=red]",
             "numpy[version=", "::numpy", "numpy!", "numpy@1.2", ">=1.2", "numpy 1..2"]


@pytest.mark.parametrize("spec", GOOD_CONDA)
def test_conda_specs_of_the_common_forms_pass(spec):
    assert conda_problem(spec) is None


@pytest.mark.parametrize("spec", BAD_CONDA)
def test_garbled_conda_specs_are_refused(spec):
    assert conda_problem(spec)


@pytest.mark.parametrize("requirement", ["requests", "lightning>=2.4", "torch==2.*", "a[b]>=1; python_version<'3.9'",
                                         "pkg @ https://example.com/pkg.whl", "--index-url https://example.com/simple",
                                         "git+https://github.com/org/repo.git", "./local-pkg", "numpy >= 1.2 , < 2"])
def test_pip_requirements_pass(requirement):
    assert pip_problem(requirement) is None


@pytest.mark.parametrize("requirement", ["lightning>==2.4", "torch===", "numpy>=>1", "x==", "numpy 1.2"])
def test_garbled_pip_requirements_are_refused(requirement):
    assert pip_problem(requirement).startswith("is not a pip requirement")
