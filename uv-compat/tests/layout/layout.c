/* Prints the binary layout of every type uv-compat's uv.h declares: size and
 * alignment, and the offset, size and alignment of each field both headers
 * name (the public ones and the callbacks libuv keeps in the same places),
 * then what the library itself reports (uv_loop_size, uv_handle_size,
 * uv_req_size). tests/layout.rs builds it against the system's libuv (its
 * uv.h, linked with its libuv.so) and against ours, and compares the two
 * outputs line for line.
 *
 * uv_metrics_t appeared in libuv 1.45: against an older system header the
 * program measures libuv's documented definition of it instead. */
#include <uv.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if !defined(UV_RUV_COMPAT) && UV_VERSION_HEX < 0x012d00
/* libuv 1.45's struct uv_metrics_s (include/uv.h), for older headers. */
typedef struct {
  uint64_t loop_count;
  uint64_t events;
  uint64_t events_waiting;
  uint64_t* reserved[13];
} uv_metrics_t;
#endif

#define TYPE(t) printf("%s size %zu align %zu\n", #t, sizeof(t), _Alignof(t))
#define FIELD(t, f)                                                   \
  printf("%s.%s offset %zu size %zu align %zu\n", #t, #f,             \
         offsetof(t, f), sizeof(((t*) 0)->f), _Alignof(__typeof__(((t*) 0)->f)))

#define HANDLE(t)            \
  TYPE(t);                   \
  FIELD(t, data);            \
  FIELD(t, loop);            \
  FIELD(t, type);            \
  FIELD(t, close_cb)

#define REQ(t)    \
  TYPE(t);        \
  FIELD(t, data); \
  FIELD(t, type)

int main(void) {
  /* loop */
  TYPE(uv_loop_t);
  FIELD(uv_loop_t, data);
  FIELD(uv_loop_t, active_handles);
  FIELD(uv_loop_t, handle_queue);
  FIELD(uv_loop_t, active_reqs);
  FIELD(uv_loop_t, active_reqs.count);
  FIELD(uv_loop_t, internal_fields);
  FIELD(uv_loop_t, stop_flag);

  /* handles */
  HANDLE(uv_handle_t);
  HANDLE(uv_timer_t);
  FIELD(uv_timer_t, timer_cb);
  HANDLE(uv_prepare_t);
  FIELD(uv_prepare_t, prepare_cb);
  HANDLE(uv_check_t);
  FIELD(uv_check_t, check_cb);
  HANDLE(uv_idle_t);
  FIELD(uv_idle_t, idle_cb);
  HANDLE(uv_async_t);
  FIELD(uv_async_t, async_cb);
  HANDLE(uv_poll_t);
  FIELD(uv_poll_t, poll_cb);
  HANDLE(uv_signal_t);
  FIELD(uv_signal_t, signal_cb);
  FIELD(uv_signal_t, signum);
  HANDLE(uv_udp_t);
  FIELD(uv_udp_t, send_queue_size);
  FIELD(uv_udp_t, send_queue_count);
  FIELD(uv_udp_t, alloc_cb);
  FIELD(uv_udp_t, recv_cb);
  HANDLE(uv_stream_t);
  FIELD(uv_stream_t, write_queue_size);
  FIELD(uv_stream_t, alloc_cb);
  FIELD(uv_stream_t, read_cb);
  HANDLE(uv_tcp_t);
  FIELD(uv_tcp_t, write_queue_size);
  FIELD(uv_tcp_t, alloc_cb);
  FIELD(uv_tcp_t, read_cb);
  HANDLE(uv_pipe_t);
  FIELD(uv_pipe_t, write_queue_size);
  FIELD(uv_pipe_t, alloc_cb);
  FIELD(uv_pipe_t, read_cb);
  FIELD(uv_pipe_t, ipc);

  /* requests */
  REQ(uv_req_t);
  REQ(uv_udp_send_t);
  FIELD(uv_udp_send_t, handle);
  FIELD(uv_udp_send_t, cb);
  REQ(uv_write_t);
  FIELD(uv_write_t, cb);
  FIELD(uv_write_t, send_handle);
  FIELD(uv_write_t, handle);
  REQ(uv_connect_t);
  FIELD(uv_connect_t, cb);
  FIELD(uv_connect_t, handle);
  REQ(uv_shutdown_t);
  FIELD(uv_shutdown_t, handle);
  FIELD(uv_shutdown_t, cb);

  /* plain structs */
  TYPE(uv_buf_t);
  FIELD(uv_buf_t, base);
  FIELD(uv_buf_t, len);
  TYPE(uv_interface_address_t);
  FIELD(uv_interface_address_t, name);
  FIELD(uv_interface_address_t, phys_addr);
  FIELD(uv_interface_address_t, is_internal);
  FIELD(uv_interface_address_t, address);
  FIELD(uv_interface_address_t, address.address4);
  FIELD(uv_interface_address_t, address.address6);
  FIELD(uv_interface_address_t, netmask);
  FIELD(uv_interface_address_t, netmask.netmask4);
  FIELD(uv_interface_address_t, netmask.netmask6);
  TYPE(uv_metrics_t);
  FIELD(uv_metrics_t, loop_count);
  FIELD(uv_metrics_t, events);
  FIELD(uv_metrics_t, events_waiting);
  TYPE(uv_timespec_t);
  FIELD(uv_timespec_t, tv_sec);
  FIELD(uv_timespec_t, tv_nsec);
  TYPE(uv_timeval_t);
  FIELD(uv_timeval_t, tv_sec);
  FIELD(uv_timeval_t, tv_usec);
  TYPE(uv_timeval64_t);
  FIELD(uv_timeval64_t, tv_sec);
  FIELD(uv_timeval64_t, tv_usec);

  /* threads */
  TYPE(uv_thread_t);
  TYPE(uv_mutex_t);
  TYPE(uv_sem_t);
  TYPE(uv_once_t);
  TYPE(uv_cond_t);
  TYPE(uv_key_t);
  TYPE(uv_barrier_t);
  TYPE(uv_rwlock_t);
  TYPE(uv_thread_options_t);
  FIELD(uv_thread_options_t, flags);
  FIELD(uv_thread_options_t, stack_size);

  /* scalar typedefs and enums */
  TYPE(uv_file);
  TYPE(uv_os_sock_t);
  TYPE(uv_os_fd_t);
  TYPE(uv_pid_t);
  TYPE(uv_uid_t);
  TYPE(uv_gid_t);
  TYPE(uv_errno_t);
  TYPE(uv_handle_type);
  TYPE(uv_req_type);
  TYPE(uv_loop_option);
  TYPE(uv_run_mode);
  TYPE(uv_membership);
  TYPE(uv_thread_create_flags);
  TYPE(enum uv_udp_flags);
  TYPE(enum uv_tcp_flags);
  TYPE(uv_stdio_flags);
  TYPE(enum uv_poll_event);

  /* processes */
  HANDLE(uv_process_t);
  FIELD(uv_process_t, exit_cb);
  FIELD(uv_process_t, pid);
  TYPE(uv_stdio_container_t);
  FIELD(uv_stdio_container_t, flags);
  FIELD(uv_stdio_container_t, data);
  FIELD(uv_stdio_container_t, data.stream);
  FIELD(uv_stdio_container_t, data.fd);
  TYPE(uv_process_options_t);
  FIELD(uv_process_options_t, exit_cb);
  FIELD(uv_process_options_t, file);
  FIELD(uv_process_options_t, args);
  FIELD(uv_process_options_t, env);
  FIELD(uv_process_options_t, cwd);
  FIELD(uv_process_options_t, flags);
  FIELD(uv_process_options_t, stdio_count);
  FIELD(uv_process_options_t, stdio);
  FIELD(uv_process_options_t, uid);
  FIELD(uv_process_options_t, gid);
  TYPE(enum uv_process_flags);
  TYPE(uv_exit_cb);

  /* the process and its surroundings */
  TYPE(uv_env_item_t);
  FIELD(uv_env_item_t, name);
  FIELD(uv_env_item_t, value);
  TYPE(uv_utsname_t);
  FIELD(uv_utsname_t, sysname);
  FIELD(uv_utsname_t, release);
  FIELD(uv_utsname_t, version);
  FIELD(uv_utsname_t, machine);

  /* callback types */
  TYPE(uv_alloc_cb);
  TYPE(uv_close_cb);
  TYPE(uv_walk_cb);
  TYPE(uv_timer_cb);
  TYPE(uv_prepare_cb);
  TYPE(uv_check_cb);
  TYPE(uv_idle_cb);
  TYPE(uv_async_cb);
  TYPE(uv_poll_cb);
  TYPE(uv_signal_cb);
  TYPE(uv_udp_send_cb);
  TYPE(uv_udp_recv_cb);
  TYPE(uv_read_cb);
  TYPE(uv_write_cb);
  TYPE(uv_connect_cb);
  TYPE(uv_shutdown_cb);
  TYPE(uv_connection_cb);
  TYPE(uv_thread_cb);
  TYPE(uv_malloc_func);
  TYPE(uv_realloc_func);
  TYPE(uv_calloc_func);
  TYPE(uv_free_func);

#ifndef LAYOUT_HEADER_ONLY
  /* what the library reports (left out when the program is built for
   * another architecture without a library to link) */
  printf("uv_loop_size %zu\n", uv_loop_size());
  printf("uv_handle_size(UV_HANDLE) %zu\n", uv_handle_size(UV_HANDLE));
  printf("uv_handle_size(UV_TIMER) %zu\n", uv_handle_size(UV_TIMER));
  printf("uv_handle_size(UV_PREPARE) %zu\n", uv_handle_size(UV_PREPARE));
  printf("uv_handle_size(UV_CHECK) %zu\n", uv_handle_size(UV_CHECK));
  printf("uv_handle_size(UV_IDLE) %zu\n", uv_handle_size(UV_IDLE));
  printf("uv_handle_size(UV_ASYNC) %zu\n", uv_handle_size(UV_ASYNC));
  printf("uv_handle_size(UV_POLL) %zu\n", uv_handle_size(UV_POLL));
  printf("uv_handle_size(UV_UDP) %zu\n", uv_handle_size(UV_UDP));
  printf("uv_handle_size(UV_SIGNAL) %zu\n", uv_handle_size(UV_SIGNAL));
  printf("uv_handle_size(UV_STREAM) %zu\n", uv_handle_size(UV_STREAM));
  printf("uv_handle_size(UV_TCP) %zu\n", uv_handle_size(UV_TCP));
  printf("uv_handle_size(UV_NAMED_PIPE) %zu\n", uv_handle_size(UV_NAMED_PIPE));
  printf("uv_handle_size(UV_PROCESS) %zu\n", uv_handle_size(UV_PROCESS));
  printf("uv_req_size(UV_REQ) %zu\n", uv_req_size(UV_REQ));
  printf("uv_req_size(UV_UDP_SEND) %zu\n", uv_req_size(UV_UDP_SEND));
  printf("uv_req_size(UV_CONNECT) %zu\n", uv_req_size(UV_CONNECT));
  printf("uv_req_size(UV_WRITE) %zu\n", uv_req_size(UV_WRITE));
  printf("uv_req_size(UV_SHUTDOWN) %zu\n", uv_req_size(UV_SHUTDOWN));
#endif
  return 0;
}
