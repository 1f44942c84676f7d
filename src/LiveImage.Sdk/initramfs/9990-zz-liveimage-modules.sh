#!/bin/sh

# LiveImage.Sdk: netboot of a stack of squashfs modules, each checked before it is used.
#
# live-boot's /usr/bin/live-boot sources /lib/live/boot/????-* in name order, so this file comes
# after 9990-mount-http.sh and its do_httpmount. With the kernel argument
#   liveimage.modules=http://IP[:PORT]/IMAGE.modules
# it takes live-boot's network path (as fetch= does) and replaces do_httpmount: it downloads the
# manifest, then each module it lists into RAM (the medium directory live-boot reads, live/), checks
# each module's size and sha256, and writes live/filesystem.module, the stack bottom first, which
# live-boot mounts as it does from a CD. Without the argument it changes nothing.
#
# The manifest (written by the SDK's netboot stage): '#' lines are comments, every other line is
#   NAME SIZE SHA256
# a module's file name beside the manifest, its size in bytes and its sha256, bottom module first.
#
# Any failure stops the boot (live-boot's panic: a message, then a rescue shell) with a message that
# starts with "liveimage.modules: error:" and names the URL or the module. The URL needs an IP
# address: nothing resolves host names here.

for _liveimage_argument in $(cat /proc/cmdline)
do
	case "${_liveimage_argument}" in
		liveimage.modules=*)
			LIVEIMAGE_MODULES="${_liveimage_argument#liveimage.modules=}"
			# live-boot joins the modules' mount points into one overlay option; util-linux's new mount
			# API takes at most 255 bytes per option value, mount(2) a page
			export LIBMOUNT_FORCE_MOUNT2=always
			;;
	esac
done
unset _liveimage_argument

liveimage_fail ()
{
	# on the console even when live-boot sends its output to boot.log
	echo "liveimage.modules: error: ${*}" > /dev/console
	panic "liveimage.modules: error: ${*}"
}

# liveimage_download URL FILE: busybox wget, three tries, a network timeout of 30 s each
liveimage_download ()
{
	_liveimage_try=1
	while ! wget -q -T 30 -O "${2}" "${1}" 2> /run/liveimage-wget.log
	do
		if [ "${_liveimage_try}" -ge 3 ]
		then
			liveimage_fail "cannot download ${1}: $(tr '\n' ' ' < /run/liveimage-wget.log)(the server must be reachable at an IP address; is it serving the netboot folder?)"
		fi
		_liveimage_try=$((_liveimage_try + 1))
		sleep 2
	done
}

liveimage_fetch_modules ()
{
	_liveimage_url="${LIVEIMAGE_MODULES}"
	case "${_liveimage_url}" in
		http://*/*) ;;
		*) liveimage_fail "liveimage.modules=${_liveimage_url} is not an http://IP[:PORT]/IMAGE.modules URL" ;;
	esac
	_liveimage_base="${_liveimage_url%/*}"
	_liveimage_dest="${mountpoint}/${LIVE_MEDIA_PATH}"
	mkdir -p "${mountpoint}"
	mount -t ramfs ram "${mountpoint}"
	mkdir -p "${_liveimage_dest}"

	log_begin_msg "liveimage.modules: downloading ${_liveimage_url}"
	liveimage_download "${_liveimage_url}" /run/liveimage.modules
	log_end_msg

	: > /run/liveimage.module
	while read -r _liveimage_name _liveimage_size _liveimage_sha256 _liveimage_rest
	do
		case "${_liveimage_name}" in
			''|'#'*) continue ;;
			*/*|.*) liveimage_fail "${_liveimage_url} names the module '${_liveimage_name}': a module is a file name beside the manifest" ;;
		esac
		if [ -z "${_liveimage_sha256}" ]
		then
			liveimage_fail "${_liveimage_url}: the line for ${_liveimage_name} is not NAME SIZE SHA256"
		fi
		_liveimage_file="${_liveimage_dest}/${_liveimage_name}"
		log_begin_msg "liveimage.modules: ${_liveimage_name} (${_liveimage_size} bytes)"
		liveimage_download "${_liveimage_base}/${_liveimage_name}" "${_liveimage_file}"
		_liveimage_actual_size="$(wc -c < "${_liveimage_file}" | tr -d ' ')"
		if [ "${_liveimage_actual_size}" != "${_liveimage_size}" ]
		then
			liveimage_fail "module ${_liveimage_name} from ${_liveimage_base}/${_liveimage_name} has ${_liveimage_actual_size} bytes, the manifest expects ${_liveimage_size}"
		fi
		_liveimage_actual="$(sha256sum "${_liveimage_file}" | cut -d ' ' -f 1)"
		if [ "${_liveimage_actual}" != "${_liveimage_sha256}" ]
		then
			liveimage_fail "module ${_liveimage_name} from ${_liveimage_base}/${_liveimage_name} failed its check: expected sha256 ${_liveimage_sha256}, actual sha256 ${_liveimage_actual}"
		fi
		log_end_msg
		echo "${_liveimage_name}" >> /run/liveimage.module
	done < /run/liveimage.modules

	if [ ! -s /run/liveimage.module ]
	then
		liveimage_fail "${_liveimage_url} lists no module"
	fi
	# live-boot stacks the modules in this order, the first at the bottom
	cp /run/liveimage.module "${_liveimage_dest}/filesystem.module"
	echo "liveimage.modules: $(wc -l < /run/liveimage.module | tr -d ' ') modules checked" > /dev/console
	return 0
}

if [ -n "${LIVEIMAGE_MODULES}" ]
then
	# live-boot brings the network up and calls do_httpmount when fetch= is set
	FETCH="${FETCH:-${LIVEIMAGE_MODULES}}"
	export FETCH LIVEIMAGE_MODULES

	do_httpmount ()
	{
		liveimage_fetch_modules
	}
fi
