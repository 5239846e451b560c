/*
 * sshlib.h — libssh, loaded only by `muxgate serve`.
 *
 * Every muxgate process (each shell, each attach relay) would otherwise
 * map libssh and, through it, libcrypto and Kerberos: about 2.5 MiB of
 * resident memory per attach for a library only the server uses.  So
 * serve*.c reach libssh through these pointers, filled by sshlib_load()
 * with dlopen(); the names below stand for the pointers.
 */
#ifndef MUXGATE_SSHLIB_H
#define MUXGATE_SSHLIB_H

#include <stddef.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#define SSHLIB_SONAME "libssh.so.4"

/* Load libssh; -1 with ERR set when it cannot be. */
int	sshlib_load(char *err, size_t errlen) __attribute__((warn_unused_result));

#define SSHLIB_FUNCS(X) \
	X(ssh_bind_accept) \
	X(ssh_bind_free) \
	X(ssh_bind_get_fd) \
	X(ssh_bind_listen) \
	X(ssh_bind_new) \
	X(ssh_bind_options_set) \
	X(ssh_channel_close) \
	X(ssh_channel_is_eof) \
	X(ssh_channel_is_open) \
	X(ssh_channel_new) \
	X(ssh_channel_poll) \
	X(ssh_channel_read_nonblocking) \
	X(ssh_channel_request_send_exit_signal) \
	X(ssh_channel_request_send_exit_status) \
	X(ssh_channel_send_eof) \
	X(ssh_channel_window_size) \
	X(ssh_channel_write) \
	X(ssh_channel_write_stderr) \
	X(ssh_clean_pubkey_hash) \
	X(ssh_disconnect) \
	X(ssh_event_add_session) \
	X(ssh_event_dopoll) \
	X(ssh_event_free) \
	X(ssh_event_new) \
	X(ssh_finalize) \
	X(ssh_free) \
	X(ssh_get_clientbanner) \
	X(ssh_get_error) \
	X(ssh_get_fd) \
	X(ssh_get_fingerprint_hash) \
	X(ssh_get_poll_flags) \
	X(ssh_get_publickey_hash) \
	X(ssh_get_status) \
	X(ssh_handle_key_exchange) \
	X(ssh_init) \
	X(ssh_key_free) \
	X(ssh_key_type) \
	X(ssh_key_type_to_char) \
	X(ssh_new) \
	X(ssh_pki_export_privkey_file) \
	X(ssh_pki_export_privkey_to_pubkey) \
	X(ssh_pki_export_pubkey_base64) \
	X(ssh_pki_generate) \
	X(ssh_pki_import_privkey_file) \
	X(ssh_set_auth_methods) \
	X(ssh_set_blocking) \
	X(ssh_set_channel_callbacks) \
	X(ssh_set_server_callbacks) \
	X(ssh_string_free_char)

#define SSHLIB_DECLARE(f) extern __typeof__(f) *sshlib_##f;
SSHLIB_FUNCS(SSHLIB_DECLARE)

#define ssh_bind_accept sshlib_ssh_bind_accept
#define ssh_bind_free sshlib_ssh_bind_free
#define ssh_bind_get_fd sshlib_ssh_bind_get_fd
#define ssh_bind_listen sshlib_ssh_bind_listen
#define ssh_bind_new sshlib_ssh_bind_new
#define ssh_bind_options_set sshlib_ssh_bind_options_set
#define ssh_channel_close sshlib_ssh_channel_close
#define ssh_channel_is_eof sshlib_ssh_channel_is_eof
#define ssh_channel_is_open sshlib_ssh_channel_is_open
#define ssh_channel_new sshlib_ssh_channel_new
#define ssh_channel_poll sshlib_ssh_channel_poll
#define ssh_channel_read_nonblocking sshlib_ssh_channel_read_nonblocking
#define ssh_channel_request_send_exit_signal sshlib_ssh_channel_request_send_exit_signal
#define ssh_channel_request_send_exit_status sshlib_ssh_channel_request_send_exit_status
#define ssh_channel_send_eof sshlib_ssh_channel_send_eof
#define ssh_channel_window_size sshlib_ssh_channel_window_size
#define ssh_channel_write sshlib_ssh_channel_write
#define ssh_channel_write_stderr sshlib_ssh_channel_write_stderr
#define ssh_clean_pubkey_hash sshlib_ssh_clean_pubkey_hash
#define ssh_disconnect sshlib_ssh_disconnect
#define ssh_event_add_session sshlib_ssh_event_add_session
#define ssh_event_dopoll sshlib_ssh_event_dopoll
#define ssh_event_free sshlib_ssh_event_free
#define ssh_event_new sshlib_ssh_event_new
#define ssh_finalize sshlib_ssh_finalize
#define ssh_free sshlib_ssh_free
#define ssh_get_clientbanner sshlib_ssh_get_clientbanner
#define ssh_get_error sshlib_ssh_get_error
#define ssh_get_fd sshlib_ssh_get_fd
#define ssh_get_fingerprint_hash sshlib_ssh_get_fingerprint_hash
#define ssh_get_poll_flags sshlib_ssh_get_poll_flags
#define ssh_get_publickey_hash sshlib_ssh_get_publickey_hash
#define ssh_get_status sshlib_ssh_get_status
#define ssh_handle_key_exchange sshlib_ssh_handle_key_exchange
#define ssh_init sshlib_ssh_init
#define ssh_key_free sshlib_ssh_key_free
#define ssh_key_type sshlib_ssh_key_type
#define ssh_key_type_to_char sshlib_ssh_key_type_to_char
#define ssh_new sshlib_ssh_new
#define ssh_pki_export_privkey_file sshlib_ssh_pki_export_privkey_file
#define ssh_pki_export_privkey_to_pubkey sshlib_ssh_pki_export_privkey_to_pubkey
#define ssh_pki_export_pubkey_base64 sshlib_ssh_pki_export_pubkey_base64
#define ssh_pki_generate sshlib_ssh_pki_generate
#define ssh_pki_import_privkey_file sshlib_ssh_pki_import_privkey_file
#define ssh_set_auth_methods sshlib_ssh_set_auth_methods
#define ssh_set_blocking sshlib_ssh_set_blocking
#define ssh_set_channel_callbacks sshlib_ssh_set_channel_callbacks
#define ssh_set_server_callbacks sshlib_ssh_set_server_callbacks
#define ssh_string_free_char sshlib_ssh_string_free_char

#endif
