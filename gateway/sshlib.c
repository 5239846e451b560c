/* sshlib.c — dlopen() libssh for muxgate serve (see sshlib.h). */
#include <dlfcn.h>
#include <stdio.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

/* Defined against the real prototypes, before sshlib.h renames them. */
__typeof__(ssh_bind_accept) *sshlib_ssh_bind_accept;
__typeof__(ssh_bind_free) *sshlib_ssh_bind_free;
__typeof__(ssh_bind_get_fd) *sshlib_ssh_bind_get_fd;
__typeof__(ssh_bind_listen) *sshlib_ssh_bind_listen;
__typeof__(ssh_bind_new) *sshlib_ssh_bind_new;
__typeof__(ssh_bind_options_set) *sshlib_ssh_bind_options_set;
__typeof__(ssh_channel_close) *sshlib_ssh_channel_close;
__typeof__(ssh_channel_is_eof) *sshlib_ssh_channel_is_eof;
__typeof__(ssh_channel_is_open) *sshlib_ssh_channel_is_open;
__typeof__(ssh_channel_new) *sshlib_ssh_channel_new;
__typeof__(ssh_channel_poll) *sshlib_ssh_channel_poll;
__typeof__(ssh_channel_read_nonblocking) *sshlib_ssh_channel_read_nonblocking;
__typeof__(ssh_channel_request_send_exit_signal) *sshlib_ssh_channel_request_send_exit_signal;
__typeof__(ssh_channel_request_send_exit_status) *sshlib_ssh_channel_request_send_exit_status;
__typeof__(ssh_channel_send_eof) *sshlib_ssh_channel_send_eof;
__typeof__(ssh_channel_window_size) *sshlib_ssh_channel_window_size;
__typeof__(ssh_channel_write) *sshlib_ssh_channel_write;
__typeof__(ssh_channel_write_stderr) *sshlib_ssh_channel_write_stderr;
__typeof__(ssh_clean_pubkey_hash) *sshlib_ssh_clean_pubkey_hash;
__typeof__(ssh_disconnect) *sshlib_ssh_disconnect;
__typeof__(ssh_event_add_session) *sshlib_ssh_event_add_session;
__typeof__(ssh_event_dopoll) *sshlib_ssh_event_dopoll;
__typeof__(ssh_event_free) *sshlib_ssh_event_free;
__typeof__(ssh_event_new) *sshlib_ssh_event_new;
__typeof__(ssh_finalize) *sshlib_ssh_finalize;
__typeof__(ssh_free) *sshlib_ssh_free;
__typeof__(ssh_get_clientbanner) *sshlib_ssh_get_clientbanner;
__typeof__(ssh_get_error) *sshlib_ssh_get_error;
__typeof__(ssh_get_fd) *sshlib_ssh_get_fd;
__typeof__(ssh_get_fingerprint_hash) *sshlib_ssh_get_fingerprint_hash;
__typeof__(ssh_get_poll_flags) *sshlib_ssh_get_poll_flags;
__typeof__(ssh_get_publickey_hash) *sshlib_ssh_get_publickey_hash;
__typeof__(ssh_get_status) *sshlib_ssh_get_status;
__typeof__(ssh_handle_key_exchange) *sshlib_ssh_handle_key_exchange;
__typeof__(ssh_init) *sshlib_ssh_init;
__typeof__(ssh_key_free) *sshlib_ssh_key_free;
__typeof__(ssh_key_type) *sshlib_ssh_key_type;
__typeof__(ssh_key_type_to_char) *sshlib_ssh_key_type_to_char;
__typeof__(ssh_new) *sshlib_ssh_new;
__typeof__(ssh_pki_export_privkey_file) *sshlib_ssh_pki_export_privkey_file;
__typeof__(ssh_pki_export_privkey_to_pubkey) *sshlib_ssh_pki_export_privkey_to_pubkey;
__typeof__(ssh_pki_export_pubkey_base64) *sshlib_ssh_pki_export_pubkey_base64;
__typeof__(ssh_pki_generate) *sshlib_ssh_pki_generate;
__typeof__(ssh_pki_import_privkey_file) *sshlib_ssh_pki_import_privkey_file;
__typeof__(ssh_set_auth_methods) *sshlib_ssh_set_auth_methods;
__typeof__(ssh_set_blocking) *sshlib_ssh_set_blocking;
__typeof__(ssh_set_channel_callbacks) *sshlib_ssh_set_channel_callbacks;
__typeof__(ssh_set_server_callbacks) *sshlib_ssh_set_server_callbacks;
__typeof__(ssh_string_free_char) *sshlib_ssh_string_free_char;

#include "gateway/sshlib.h"

int
sshlib_load(char *err, size_t errlen)
{
	static void	*handle;

	if (handle != NULL)
		return 0;
	if ((handle = dlopen(SSHLIB_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "cannot load %s (package libssh-4): %s",
		    SSHLIB_SONAME, dlerror());
		return -1;
	}
#define SSHLIB_LOAD(f) \
	if ((sshlib_##f = (__typeof__(sshlib_##f))dlsym(handle, #f)) == NULL) { \
		snprintf(err, errlen, "%s: no symbol %s", SSHLIB_SONAME, #f); \
		dlclose(handle); \
		handle = NULL; \
		return -1; \
	}
	SSHLIB_FUNCS(SSHLIB_LOAD)
#undef SSHLIB_LOAD
	return 0;
}
