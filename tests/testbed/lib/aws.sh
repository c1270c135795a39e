# shellcheck shell=bash
# The AWS tools of the EKS tests (moto_server, aws) in their own venv, keyed by the hash of their pinned set.
AWS_REQS=$TESTBED_SRC/aws/requirements.txt
AWS_VENV=$NEBARI_CACHE/venv/aws-$(files_hash "$AWS_REQS")

aws_install() {
  [ -f "$AWS_VENV/.complete" ] && return 0
  local python t0; t0=$(date +%s.%N)
  for python in python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3.12 python3 ""; do
    [ -n "$python" ] && "$python" -c 'import sys; assert sys.version_info[:2] >= (3, 9)' 2>/dev/null && break
  done
  [ -n "$python" ] || die "the AWS tools need Python 3.9 or newer"
  log "installing moto server and AWS CLI into $AWS_VENV"
  pip_venv "$AWS_VENV" "$AWS_REQS" "$python"
  "$AWS_VENV/bin/aws" --version >/dev/null && "$AWS_VENV/bin/moto_server" --help >/dev/null \
    || die "aws or moto_server of $AWS_VENV does not run"
  touch "$AWS_VENV/.complete"
  log "AWS tools installed in $(since "$t0") s"
}
