# nebari.platform: the system-wide jupyter_server config of every JupyterLab server (/etc/jupyter, as Nebari
# Classic's). conda-store's environments become kernels through nb_conda_kernels where the image has it (Nebari's
# images do; conda finds them in CONDA_ENVS_PATH, which the hub sets to the namespaces the user may read); an
# image without it keeps its own kernels. Idle culling: jupyter_server_config.json beside this file.
# pylint: disable=undefined-variable
# (c: the config object jupyter_server runs this file with)
import importlib.util

if importlib.util.find_spec("nb_conda_kernels") is not None:
    c.ServerApp.kernel_spec_manager_class = "nb_conda_kernels.CondaKernelSpecManager"
    # one kernel per environment, named as conda-store names it (<namespace>-<environment>)
    c.CondaKernelSpecManager.name_format = "{environment}"
    # the server's own environment is already the default kernel
    c.CondaKernelSpecManager.env_filter = r"^/opt/conda(/envs/default)?$"
