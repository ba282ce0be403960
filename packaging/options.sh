# shellcheck shell=bash
# The option parsing of the check_*.sh scripts, written once: each takes two options with a value,
# --keep and --help. Source it, then:
#   parse_options SCRIPT_NAME USAGE_FUNCTION --opt1=var1 --opt2=var2 -- "$@"
# sets var1/var2 from "--opt1 VALUE", keep=1 for --keep, prints the usage for -h/--help (exit 0) and
# ends the script with one line and exit code 2 for a missing value or an unknown option.
# need_value SCRIPT_NAME "$@" (the option, then the arguments after it) is the value check alone, for
# scripts that parse their own options (retrain.sh).

need_value() {  # one line and exit code 2 unless a value follows OPTION; an option there is no value
  local script=$1 option=$2
  shift 2
  if [ $# = 0 ] || [ -z "$1" ]; then
    echo "$script: $option needs a value" >&2
    exit 2
  fi
  case "$1" in
    --*|-h) echo "$script: $option needs a value, not the option '$1'" >&2; exit 2 ;;
  esac
}

# shellcheck disable=SC2034  # keep is read by the script that sources this
parse_options() {
  local script=$1 usage=$2 spec
  local -A var_of=()
  shift 2
  while [ "$1" != "--" ]; do
    spec=$1
    var_of[${spec%%=*}]=${spec#*=}
    shift
  done
  shift
  while [ $# -gt 0 ]; do
    if [ -n "${var_of[$1]:-}" ]; then
      need_value "$script" "$@"
      printf -v "${var_of[$1]}" '%s' "$2"
      shift
    else
      case "$1" in
        --keep) keep=1 ;;  # read by the script that sources this
        -h|--help) "$usage"; exit 0 ;;
        *) echo "$script: unknown option '$1' (see --help)" >&2; exit 2 ;;
      esac
    fi
    shift
  done
}
