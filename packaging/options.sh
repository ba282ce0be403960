# The option parsing of the check_*.sh scripts, written once: each takes two options with a value,
# --keep and --help. Source it, then:
#   parse_options SCRIPT_NAME USAGE_FUNCTION --opt1=var1 --opt2=var2 -- "$@"
# sets var1/var2 from "--opt1 VALUE", keep=1 for --keep, prints the usage for -h/--help (exit 0) and
# ends the script with one line and exit code 2 for a missing value or an unknown option.
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
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "$script: $1 needs a value" >&2; exit 2; }
      printf -v "${var_of[$1]}" '%s' "$2"
      shift
    else
      case "$1" in
        --keep) keep=1 ;;
        -h|--help) "$usage"; exit 0 ;;
        *) echo "$script: unknown option '$1' (see --help)" >&2; exit 2 ;;
      esac
    fi
    shift
  done
}
