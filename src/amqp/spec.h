/* generated — do not edit.
 * Made by codegen/amqp_codegen.py from amqp-rabbitmq-0.9.1.json
 * (RabbitMQ's AMQP 0-9-1 spec; see that file for its licence).
 * Regenerate with `make codegen`. */
#ifndef WARREN_AMQP_SPEC_H
#define WARREN_AMQP_SPEC_H

#include "wire.h"

#define AMQP_PROTOCOL_VERSION_MAJOR 0
#define AMQP_PROTOCOL_VERSION_MINOR 9
#define AMQP_PROTOCOL_VERSION_REVISION 1
#define AMQP_PROTOCOL_PORT 5672

/* Constants and reply codes; amqp_reply_is_hard() tells a connection error from a channel error. */
#define AMQP_FRAME_METHOD 1
#define AMQP_FRAME_HEADER 2
#define AMQP_FRAME_BODY 3
#define AMQP_FRAME_HEARTBEAT 8
#define AMQP_FRAME_MIN_SIZE 4096
#define AMQP_FRAME_END 206
#define AMQP_REPLY_SUCCESS 200
#define AMQP_CONTENT_TOO_LARGE 311
#define AMQP_NO_ROUTE 312
#define AMQP_NO_CONSUMERS 313
#define AMQP_ACCESS_REFUSED 403
#define AMQP_NOT_FOUND 404
#define AMQP_RESOURCE_LOCKED 405
#define AMQP_PRECONDITION_FAILED 406
#define AMQP_CONNECTION_FORCED 320
#define AMQP_INVALID_PATH 402
#define AMQP_FRAME_ERROR 501
#define AMQP_SYNTAX_ERROR 502
#define AMQP_COMMAND_INVALID 503
#define AMQP_CHANNEL_ERROR 504
#define AMQP_UNEXPECTED_FRAME 505
#define AMQP_RESOURCE_ERROR 506
#define AMQP_NOT_ALLOWED 530
#define AMQP_NOT_IMPLEMENTED 540
#define AMQP_INTERNAL_ERROR 541

bool amqp_reply_is_hard(int code);
bool amqp_reply_is_soft(int code);
/* "NOT_FOUND" for 404, NULL for a code the spec does not name. */
const char *amqp_reply_name(int code);

#define AMQP_CONNECTION_CLASS 10
#define AMQP_CHANNEL_CLASS 20
#define AMQP_ACCESS_CLASS 30
#define AMQP_EXCHANGE_CLASS 40
#define AMQP_QUEUE_CLASS 50
#define AMQP_BASIC_CLASS 60
#define AMQP_TX_CLASS 90
#define AMQP_CONFIRM_CLASS 85

/* A method id is class << 16 | method. */
#define AMQP_CONNECTION_START ((uint32_t)0x000A000A) /* connection.start */
#define AMQP_CONNECTION_START_OK ((uint32_t)0x000A000B) /* connection.start-ok */
#define AMQP_CONNECTION_SECURE ((uint32_t)0x000A0014) /* connection.secure */
#define AMQP_CONNECTION_SECURE_OK ((uint32_t)0x000A0015) /* connection.secure-ok */
#define AMQP_CONNECTION_TUNE ((uint32_t)0x000A001E) /* connection.tune */
#define AMQP_CONNECTION_TUNE_OK ((uint32_t)0x000A001F) /* connection.tune-ok */
#define AMQP_CONNECTION_OPEN ((uint32_t)0x000A0028) /* connection.open */
#define AMQP_CONNECTION_OPEN_OK ((uint32_t)0x000A0029) /* connection.open-ok */
#define AMQP_CONNECTION_CLOSE ((uint32_t)0x000A0032) /* connection.close */
#define AMQP_CONNECTION_CLOSE_OK ((uint32_t)0x000A0033) /* connection.close-ok */
#define AMQP_CONNECTION_BLOCKED ((uint32_t)0x000A003C) /* connection.blocked */
#define AMQP_CONNECTION_UNBLOCKED ((uint32_t)0x000A003D) /* connection.unblocked */
#define AMQP_CONNECTION_UPDATE_SECRET ((uint32_t)0x000A0046) /* connection.update-secret */
#define AMQP_CONNECTION_UPDATE_SECRET_OK ((uint32_t)0x000A0047) /* connection.update-secret-ok */
#define AMQP_CHANNEL_OPEN ((uint32_t)0x0014000A) /* channel.open */
#define AMQP_CHANNEL_OPEN_OK ((uint32_t)0x0014000B) /* channel.open-ok */
#define AMQP_CHANNEL_FLOW ((uint32_t)0x00140014) /* channel.flow */
#define AMQP_CHANNEL_FLOW_OK ((uint32_t)0x00140015) /* channel.flow-ok */
#define AMQP_CHANNEL_CLOSE ((uint32_t)0x00140028) /* channel.close */
#define AMQP_CHANNEL_CLOSE_OK ((uint32_t)0x00140029) /* channel.close-ok */
#define AMQP_ACCESS_REQUEST ((uint32_t)0x001E000A) /* access.request */
#define AMQP_ACCESS_REQUEST_OK ((uint32_t)0x001E000B) /* access.request-ok */
#define AMQP_EXCHANGE_DECLARE ((uint32_t)0x0028000A) /* exchange.declare */
#define AMQP_EXCHANGE_DECLARE_OK ((uint32_t)0x0028000B) /* exchange.declare-ok */
#define AMQP_EXCHANGE_DELETE ((uint32_t)0x00280014) /* exchange.delete */
#define AMQP_EXCHANGE_DELETE_OK ((uint32_t)0x00280015) /* exchange.delete-ok */
#define AMQP_EXCHANGE_BIND ((uint32_t)0x0028001E) /* exchange.bind */
#define AMQP_EXCHANGE_BIND_OK ((uint32_t)0x0028001F) /* exchange.bind-ok */
#define AMQP_EXCHANGE_UNBIND ((uint32_t)0x00280028) /* exchange.unbind */
#define AMQP_EXCHANGE_UNBIND_OK ((uint32_t)0x00280033) /* exchange.unbind-ok */
#define AMQP_QUEUE_DECLARE ((uint32_t)0x0032000A) /* queue.declare */
#define AMQP_QUEUE_DECLARE_OK ((uint32_t)0x0032000B) /* queue.declare-ok */
#define AMQP_QUEUE_BIND ((uint32_t)0x00320014) /* queue.bind */
#define AMQP_QUEUE_BIND_OK ((uint32_t)0x00320015) /* queue.bind-ok */
#define AMQP_QUEUE_PURGE ((uint32_t)0x0032001E) /* queue.purge */
#define AMQP_QUEUE_PURGE_OK ((uint32_t)0x0032001F) /* queue.purge-ok */
#define AMQP_QUEUE_DELETE ((uint32_t)0x00320028) /* queue.delete */
#define AMQP_QUEUE_DELETE_OK ((uint32_t)0x00320029) /* queue.delete-ok */
#define AMQP_QUEUE_UNBIND ((uint32_t)0x00320032) /* queue.unbind */
#define AMQP_QUEUE_UNBIND_OK ((uint32_t)0x00320033) /* queue.unbind-ok */
#define AMQP_BASIC_QOS ((uint32_t)0x003C000A) /* basic.qos */
#define AMQP_BASIC_QOS_OK ((uint32_t)0x003C000B) /* basic.qos-ok */
#define AMQP_BASIC_CONSUME ((uint32_t)0x003C0014) /* basic.consume */
#define AMQP_BASIC_CONSUME_OK ((uint32_t)0x003C0015) /* basic.consume-ok */
#define AMQP_BASIC_CANCEL ((uint32_t)0x003C001E) /* basic.cancel */
#define AMQP_BASIC_CANCEL_OK ((uint32_t)0x003C001F) /* basic.cancel-ok */
#define AMQP_BASIC_PUBLISH ((uint32_t)0x003C0028) /* basic.publish */
#define AMQP_BASIC_RETURN ((uint32_t)0x003C0032) /* basic.return */
#define AMQP_BASIC_DELIVER ((uint32_t)0x003C003C) /* basic.deliver */
#define AMQP_BASIC_GET ((uint32_t)0x003C0046) /* basic.get */
#define AMQP_BASIC_GET_OK ((uint32_t)0x003C0047) /* basic.get-ok */
#define AMQP_BASIC_GET_EMPTY ((uint32_t)0x003C0048) /* basic.get-empty */
#define AMQP_BASIC_ACK ((uint32_t)0x003C0050) /* basic.ack */
#define AMQP_BASIC_REJECT ((uint32_t)0x003C005A) /* basic.reject */
#define AMQP_BASIC_RECOVER_ASYNC ((uint32_t)0x003C0064) /* basic.recover-async */
#define AMQP_BASIC_RECOVER ((uint32_t)0x003C006E) /* basic.recover */
#define AMQP_BASIC_RECOVER_OK ((uint32_t)0x003C006F) /* basic.recover-ok */
#define AMQP_BASIC_NACK ((uint32_t)0x003C0078) /* basic.nack */
#define AMQP_TX_SELECT ((uint32_t)0x005A000A) /* tx.select */
#define AMQP_TX_SELECT_OK ((uint32_t)0x005A000B) /* tx.select-ok */
#define AMQP_TX_COMMIT ((uint32_t)0x005A0014) /* tx.commit */
#define AMQP_TX_COMMIT_OK ((uint32_t)0x005A0015) /* tx.commit-ok */
#define AMQP_TX_ROLLBACK ((uint32_t)0x005A001E) /* tx.rollback */
#define AMQP_TX_ROLLBACK_OK ((uint32_t)0x005A001F) /* tx.rollback-ok */
#define AMQP_CONFIRM_SELECT ((uint32_t)0x0055000A) /* confirm.select */
#define AMQP_CONFIRM_SELECT_OK ((uint32_t)0x0055000B) /* confirm.select-ok */

typedef struct amqp_connection_start {
    uint8_t version_major;
    uint8_t version_minor;
    amqp_table server_properties;
    amqp_str mechanisms;
    amqp_str locales;
} amqp_connection_start;

typedef struct amqp_connection_start_ok {
    amqp_table client_properties;
    amqp_str mechanism;
    amqp_str response;
    amqp_str locale;
} amqp_connection_start_ok;

typedef struct amqp_connection_secure {
    amqp_str challenge;
} amqp_connection_secure;

typedef struct amqp_connection_secure_ok {
    amqp_str response;
} amqp_connection_secure_ok;

typedef struct amqp_connection_tune {
    uint16_t channel_max;
    uint32_t frame_max;
    uint16_t heartbeat;
} amqp_connection_tune;

typedef struct amqp_connection_tune_ok {
    uint16_t channel_max;
    uint32_t frame_max;
    uint16_t heartbeat;
} amqp_connection_tune_ok;

typedef struct amqp_connection_open {
    amqp_str virtual_host;
    amqp_str capabilities;
    bool insist;
} amqp_connection_open;

typedef struct amqp_connection_open_ok {
    amqp_str known_hosts;
} amqp_connection_open_ok;

typedef struct amqp_connection_close {
    uint16_t reply_code;
    amqp_str reply_text;
    uint16_t class_id;
    uint16_t method_id;
} amqp_connection_close;

typedef struct amqp_connection_close_ok {
    char unused; /* no arguments */
} amqp_connection_close_ok;

typedef struct amqp_connection_blocked {
    amqp_str reason;
} amqp_connection_blocked;

typedef struct amqp_connection_unblocked {
    char unused; /* no arguments */
} amqp_connection_unblocked;

typedef struct amqp_connection_update_secret {
    amqp_str new_secret;
    amqp_str reason;
} amqp_connection_update_secret;

typedef struct amqp_connection_update_secret_ok {
    char unused; /* no arguments */
} amqp_connection_update_secret_ok;

typedef struct amqp_channel_open {
    amqp_str out_of_band;
} amqp_channel_open;

typedef struct amqp_channel_open_ok {
    amqp_str channel_id;
} amqp_channel_open_ok;

typedef struct amqp_channel_flow {
    bool active;
} amqp_channel_flow;

typedef struct amqp_channel_flow_ok {
    bool active;
} amqp_channel_flow_ok;

typedef struct amqp_channel_close {
    uint16_t reply_code;
    amqp_str reply_text;
    uint16_t class_id;
    uint16_t method_id;
} amqp_channel_close;

typedef struct amqp_channel_close_ok {
    char unused; /* no arguments */
} amqp_channel_close_ok;

typedef struct amqp_access_request {
    amqp_str realm;
    bool exclusive;
    bool passive;
    bool active;
    bool write;
    bool read;
} amqp_access_request;

typedef struct amqp_access_request_ok {
    uint16_t ticket;
} amqp_access_request_ok;

typedef struct amqp_exchange_declare {
    uint16_t ticket;
    amqp_str exchange;
    amqp_str type;
    bool passive;
    bool durable;
    bool auto_delete;
    bool internal;
    bool nowait;
    amqp_table arguments;
} amqp_exchange_declare;

typedef struct amqp_exchange_declare_ok {
    char unused; /* no arguments */
} amqp_exchange_declare_ok;

typedef struct amqp_exchange_delete {
    uint16_t ticket;
    amqp_str exchange;
    bool if_unused;
    bool nowait;
} amqp_exchange_delete;

typedef struct amqp_exchange_delete_ok {
    char unused; /* no arguments */
} amqp_exchange_delete_ok;

typedef struct amqp_exchange_bind {
    uint16_t ticket;
    amqp_str destination;
    amqp_str source;
    amqp_str routing_key;
    bool nowait;
    amqp_table arguments;
} amqp_exchange_bind;

typedef struct amqp_exchange_bind_ok {
    char unused; /* no arguments */
} amqp_exchange_bind_ok;

typedef struct amqp_exchange_unbind {
    uint16_t ticket;
    amqp_str destination;
    amqp_str source;
    amqp_str routing_key;
    bool nowait;
    amqp_table arguments;
} amqp_exchange_unbind;

typedef struct amqp_exchange_unbind_ok {
    char unused; /* no arguments */
} amqp_exchange_unbind_ok;

typedef struct amqp_queue_declare {
    uint16_t ticket;
    amqp_str queue;
    bool passive;
    bool durable;
    bool exclusive;
    bool auto_delete;
    bool nowait;
    amqp_table arguments;
} amqp_queue_declare;

typedef struct amqp_queue_declare_ok {
    amqp_str queue;
    uint32_t message_count;
    uint32_t consumer_count;
} amqp_queue_declare_ok;

typedef struct amqp_queue_bind {
    uint16_t ticket;
    amqp_str queue;
    amqp_str exchange;
    amqp_str routing_key;
    bool nowait;
    amqp_table arguments;
} amqp_queue_bind;

typedef struct amqp_queue_bind_ok {
    char unused; /* no arguments */
} amqp_queue_bind_ok;

typedef struct amqp_queue_purge {
    uint16_t ticket;
    amqp_str queue;
    bool nowait;
} amqp_queue_purge;

typedef struct amqp_queue_purge_ok {
    uint32_t message_count;
} amqp_queue_purge_ok;

typedef struct amqp_queue_delete {
    uint16_t ticket;
    amqp_str queue;
    bool if_unused;
    bool if_empty;
    bool nowait;
} amqp_queue_delete;

typedef struct amqp_queue_delete_ok {
    uint32_t message_count;
} amqp_queue_delete_ok;

typedef struct amqp_queue_unbind {
    uint16_t ticket;
    amqp_str queue;
    amqp_str exchange;
    amqp_str routing_key;
    amqp_table arguments;
} amqp_queue_unbind;

typedef struct amqp_queue_unbind_ok {
    char unused; /* no arguments */
} amqp_queue_unbind_ok;

typedef struct amqp_basic_qos {
    uint32_t prefetch_size;
    uint16_t prefetch_count;
    bool global;
} amqp_basic_qos;

typedef struct amqp_basic_qos_ok {
    char unused; /* no arguments */
} amqp_basic_qos_ok;

typedef struct amqp_basic_consume {
    uint16_t ticket;
    amqp_str queue;
    amqp_str consumer_tag;
    bool no_local;
    bool no_ack;
    bool exclusive;
    bool nowait;
    amqp_table arguments;
} amqp_basic_consume;

typedef struct amqp_basic_consume_ok {
    amqp_str consumer_tag;
} amqp_basic_consume_ok;

typedef struct amqp_basic_cancel {
    amqp_str consumer_tag;
    bool nowait;
} amqp_basic_cancel;

typedef struct amqp_basic_cancel_ok {
    amqp_str consumer_tag;
} amqp_basic_cancel_ok;

typedef struct amqp_basic_publish {
    uint16_t ticket;
    amqp_str exchange;
    amqp_str routing_key;
    bool mandatory;
    bool immediate;
} amqp_basic_publish;

typedef struct amqp_basic_return {
    uint16_t reply_code;
    amqp_str reply_text;
    amqp_str exchange;
    amqp_str routing_key;
} amqp_basic_return;

typedef struct amqp_basic_deliver {
    amqp_str consumer_tag;
    uint64_t delivery_tag;
    bool redelivered;
    amqp_str exchange;
    amqp_str routing_key;
} amqp_basic_deliver;

typedef struct amqp_basic_get {
    uint16_t ticket;
    amqp_str queue;
    bool no_ack;
} amqp_basic_get;

typedef struct amqp_basic_get_ok {
    uint64_t delivery_tag;
    bool redelivered;
    amqp_str exchange;
    amqp_str routing_key;
    uint32_t message_count;
} amqp_basic_get_ok;

typedef struct amqp_basic_get_empty {
    amqp_str cluster_id;
} amqp_basic_get_empty;

typedef struct amqp_basic_ack {
    uint64_t delivery_tag;
    bool multiple;
} amqp_basic_ack;

typedef struct amqp_basic_reject {
    uint64_t delivery_tag;
    bool requeue;
} amqp_basic_reject;

typedef struct amqp_basic_recover_async {
    bool requeue;
} amqp_basic_recover_async;

typedef struct amqp_basic_recover {
    bool requeue;
} amqp_basic_recover;

typedef struct amqp_basic_recover_ok {
    char unused; /* no arguments */
} amqp_basic_recover_ok;

typedef struct amqp_basic_nack {
    uint64_t delivery_tag;
    bool multiple;
    bool requeue;
} amqp_basic_nack;

typedef struct amqp_tx_select {
    char unused; /* no arguments */
} amqp_tx_select;

typedef struct amqp_tx_select_ok {
    char unused; /* no arguments */
} amqp_tx_select_ok;

typedef struct amqp_tx_commit {
    char unused; /* no arguments */
} amqp_tx_commit;

typedef struct amqp_tx_commit_ok {
    char unused; /* no arguments */
} amqp_tx_commit_ok;

typedef struct amqp_tx_rollback {
    char unused; /* no arguments */
} amqp_tx_rollback;

typedef struct amqp_tx_rollback_ok {
    char unused; /* no arguments */
} amqp_tx_rollback_ok;

typedef struct amqp_confirm_select {
    bool nowait;
} amqp_confirm_select;

typedef struct amqp_confirm_select_ok {
    char unused; /* no arguments */
} amqp_confirm_select_ok;

/* Room for the arguments of any method. */
typedef union amqp_method_args {
    amqp_connection_start connection_start;
    amqp_connection_start_ok connection_start_ok;
    amqp_connection_secure connection_secure;
    amqp_connection_secure_ok connection_secure_ok;
    amqp_connection_tune connection_tune;
    amqp_connection_tune_ok connection_tune_ok;
    amqp_connection_open connection_open;
    amqp_connection_open_ok connection_open_ok;
    amqp_connection_close connection_close;
    amqp_connection_close_ok connection_close_ok;
    amqp_connection_blocked connection_blocked;
    amqp_connection_unblocked connection_unblocked;
    amqp_connection_update_secret connection_update_secret;
    amqp_connection_update_secret_ok connection_update_secret_ok;
    amqp_channel_open channel_open;
    amqp_channel_open_ok channel_open_ok;
    amqp_channel_flow channel_flow;
    amqp_channel_flow_ok channel_flow_ok;
    amqp_channel_close channel_close;
    amqp_channel_close_ok channel_close_ok;
    amqp_access_request access_request;
    amqp_access_request_ok access_request_ok;
    amqp_exchange_declare exchange_declare;
    amqp_exchange_declare_ok exchange_declare_ok;
    amqp_exchange_delete exchange_delete;
    amqp_exchange_delete_ok exchange_delete_ok;
    amqp_exchange_bind exchange_bind;
    amqp_exchange_bind_ok exchange_bind_ok;
    amqp_exchange_unbind exchange_unbind;
    amqp_exchange_unbind_ok exchange_unbind_ok;
    amqp_queue_declare queue_declare;
    amqp_queue_declare_ok queue_declare_ok;
    amqp_queue_bind queue_bind;
    amqp_queue_bind_ok queue_bind_ok;
    amqp_queue_purge queue_purge;
    amqp_queue_purge_ok queue_purge_ok;
    amqp_queue_delete queue_delete;
    amqp_queue_delete_ok queue_delete_ok;
    amqp_queue_unbind queue_unbind;
    amqp_queue_unbind_ok queue_unbind_ok;
    amqp_basic_qos basic_qos;
    amqp_basic_qos_ok basic_qos_ok;
    amqp_basic_consume basic_consume;
    amqp_basic_consume_ok basic_consume_ok;
    amqp_basic_cancel basic_cancel;
    amqp_basic_cancel_ok basic_cancel_ok;
    amqp_basic_publish basic_publish;
    amqp_basic_return basic_return;
    amqp_basic_deliver basic_deliver;
    amqp_basic_get basic_get;
    amqp_basic_get_ok basic_get_ok;
    amqp_basic_get_empty basic_get_empty;
    amqp_basic_ack basic_ack;
    amqp_basic_reject basic_reject;
    amqp_basic_recover_async basic_recover_async;
    amqp_basic_recover basic_recover;
    amqp_basic_recover_ok basic_recover_ok;
    amqp_basic_nack basic_nack;
    amqp_tx_select tx_select;
    amqp_tx_select_ok tx_select_ok;
    amqp_tx_commit tx_commit;
    amqp_tx_commit_ok tx_commit_ok;
    amqp_tx_rollback tx_rollback;
    amqp_tx_rollback_ok tx_rollback_ok;
    amqp_confirm_select confirm_select;
    amqp_confirm_select_ok confirm_select_ok;
} amqp_method_args;

int amqp_connection_start_decode(const uint8_t *p, size_t n, amqp_connection_start *m);
size_t amqp_connection_start_size(const amqp_connection_start *m);
uint8_t *amqp_connection_start_encode(uint8_t *p, const amqp_connection_start *m);
int amqp_connection_start_ok_decode(const uint8_t *p, size_t n, amqp_connection_start_ok *m);
size_t amqp_connection_start_ok_size(const amqp_connection_start_ok *m);
uint8_t *amqp_connection_start_ok_encode(uint8_t *p, const amqp_connection_start_ok *m);
int amqp_connection_secure_decode(const uint8_t *p, size_t n, amqp_connection_secure *m);
size_t amqp_connection_secure_size(const amqp_connection_secure *m);
uint8_t *amqp_connection_secure_encode(uint8_t *p, const amqp_connection_secure *m);
int amqp_connection_secure_ok_decode(const uint8_t *p, size_t n, amqp_connection_secure_ok *m);
size_t amqp_connection_secure_ok_size(const amqp_connection_secure_ok *m);
uint8_t *amqp_connection_secure_ok_encode(uint8_t *p, const amqp_connection_secure_ok *m);
int amqp_connection_tune_decode(const uint8_t *p, size_t n, amqp_connection_tune *m);
size_t amqp_connection_tune_size(const amqp_connection_tune *m);
uint8_t *amqp_connection_tune_encode(uint8_t *p, const amqp_connection_tune *m);
int amqp_connection_tune_ok_decode(const uint8_t *p, size_t n, amqp_connection_tune_ok *m);
size_t amqp_connection_tune_ok_size(const amqp_connection_tune_ok *m);
uint8_t *amqp_connection_tune_ok_encode(uint8_t *p, const amqp_connection_tune_ok *m);
int amqp_connection_open_decode(const uint8_t *p, size_t n, amqp_connection_open *m);
size_t amqp_connection_open_size(const amqp_connection_open *m);
uint8_t *amqp_connection_open_encode(uint8_t *p, const amqp_connection_open *m);
int amqp_connection_open_ok_decode(const uint8_t *p, size_t n, amqp_connection_open_ok *m);
size_t amqp_connection_open_ok_size(const amqp_connection_open_ok *m);
uint8_t *amqp_connection_open_ok_encode(uint8_t *p, const amqp_connection_open_ok *m);
int amqp_connection_close_decode(const uint8_t *p, size_t n, amqp_connection_close *m);
size_t amqp_connection_close_size(const amqp_connection_close *m);
uint8_t *amqp_connection_close_encode(uint8_t *p, const amqp_connection_close *m);
int amqp_connection_close_ok_decode(const uint8_t *p, size_t n, amqp_connection_close_ok *m);
size_t amqp_connection_close_ok_size(const amqp_connection_close_ok *m);
uint8_t *amqp_connection_close_ok_encode(uint8_t *p, const amqp_connection_close_ok *m);
int amqp_connection_blocked_decode(const uint8_t *p, size_t n, amqp_connection_blocked *m);
size_t amqp_connection_blocked_size(const amqp_connection_blocked *m);
uint8_t *amqp_connection_blocked_encode(uint8_t *p, const amqp_connection_blocked *m);
int amqp_connection_unblocked_decode(const uint8_t *p, size_t n, amqp_connection_unblocked *m);
size_t amqp_connection_unblocked_size(const amqp_connection_unblocked *m);
uint8_t *amqp_connection_unblocked_encode(uint8_t *p, const amqp_connection_unblocked *m);
int amqp_connection_update_secret_decode(const uint8_t *p, size_t n, amqp_connection_update_secret *m);
size_t amqp_connection_update_secret_size(const amqp_connection_update_secret *m);
uint8_t *amqp_connection_update_secret_encode(uint8_t *p, const amqp_connection_update_secret *m);
int amqp_connection_update_secret_ok_decode(const uint8_t *p, size_t n, amqp_connection_update_secret_ok *m);
size_t amqp_connection_update_secret_ok_size(const amqp_connection_update_secret_ok *m);
uint8_t *amqp_connection_update_secret_ok_encode(uint8_t *p, const amqp_connection_update_secret_ok *m);
int amqp_channel_open_decode(const uint8_t *p, size_t n, amqp_channel_open *m);
size_t amqp_channel_open_size(const amqp_channel_open *m);
uint8_t *amqp_channel_open_encode(uint8_t *p, const amqp_channel_open *m);
int amqp_channel_open_ok_decode(const uint8_t *p, size_t n, amqp_channel_open_ok *m);
size_t amqp_channel_open_ok_size(const amqp_channel_open_ok *m);
uint8_t *amqp_channel_open_ok_encode(uint8_t *p, const amqp_channel_open_ok *m);
int amqp_channel_flow_decode(const uint8_t *p, size_t n, amqp_channel_flow *m);
size_t amqp_channel_flow_size(const amqp_channel_flow *m);
uint8_t *amqp_channel_flow_encode(uint8_t *p, const amqp_channel_flow *m);
int amqp_channel_flow_ok_decode(const uint8_t *p, size_t n, amqp_channel_flow_ok *m);
size_t amqp_channel_flow_ok_size(const amqp_channel_flow_ok *m);
uint8_t *amqp_channel_flow_ok_encode(uint8_t *p, const amqp_channel_flow_ok *m);
int amqp_channel_close_decode(const uint8_t *p, size_t n, amqp_channel_close *m);
size_t amqp_channel_close_size(const amqp_channel_close *m);
uint8_t *amqp_channel_close_encode(uint8_t *p, const amqp_channel_close *m);
int amqp_channel_close_ok_decode(const uint8_t *p, size_t n, amqp_channel_close_ok *m);
size_t amqp_channel_close_ok_size(const amqp_channel_close_ok *m);
uint8_t *amqp_channel_close_ok_encode(uint8_t *p, const amqp_channel_close_ok *m);
int amqp_access_request_decode(const uint8_t *p, size_t n, amqp_access_request *m);
size_t amqp_access_request_size(const amqp_access_request *m);
uint8_t *amqp_access_request_encode(uint8_t *p, const amqp_access_request *m);
int amqp_access_request_ok_decode(const uint8_t *p, size_t n, amqp_access_request_ok *m);
size_t amqp_access_request_ok_size(const amqp_access_request_ok *m);
uint8_t *amqp_access_request_ok_encode(uint8_t *p, const amqp_access_request_ok *m);
int amqp_exchange_declare_decode(const uint8_t *p, size_t n, amqp_exchange_declare *m);
size_t amqp_exchange_declare_size(const amqp_exchange_declare *m);
uint8_t *amqp_exchange_declare_encode(uint8_t *p, const amqp_exchange_declare *m);
int amqp_exchange_declare_ok_decode(const uint8_t *p, size_t n, amqp_exchange_declare_ok *m);
size_t amqp_exchange_declare_ok_size(const amqp_exchange_declare_ok *m);
uint8_t *amqp_exchange_declare_ok_encode(uint8_t *p, const amqp_exchange_declare_ok *m);
int amqp_exchange_delete_decode(const uint8_t *p, size_t n, amqp_exchange_delete *m);
size_t amqp_exchange_delete_size(const amqp_exchange_delete *m);
uint8_t *amqp_exchange_delete_encode(uint8_t *p, const amqp_exchange_delete *m);
int amqp_exchange_delete_ok_decode(const uint8_t *p, size_t n, amqp_exchange_delete_ok *m);
size_t amqp_exchange_delete_ok_size(const amqp_exchange_delete_ok *m);
uint8_t *amqp_exchange_delete_ok_encode(uint8_t *p, const amqp_exchange_delete_ok *m);
int amqp_exchange_bind_decode(const uint8_t *p, size_t n, amqp_exchange_bind *m);
size_t amqp_exchange_bind_size(const amqp_exchange_bind *m);
uint8_t *amqp_exchange_bind_encode(uint8_t *p, const amqp_exchange_bind *m);
int amqp_exchange_bind_ok_decode(const uint8_t *p, size_t n, amqp_exchange_bind_ok *m);
size_t amqp_exchange_bind_ok_size(const amqp_exchange_bind_ok *m);
uint8_t *amqp_exchange_bind_ok_encode(uint8_t *p, const amqp_exchange_bind_ok *m);
int amqp_exchange_unbind_decode(const uint8_t *p, size_t n, amqp_exchange_unbind *m);
size_t amqp_exchange_unbind_size(const amqp_exchange_unbind *m);
uint8_t *amqp_exchange_unbind_encode(uint8_t *p, const amqp_exchange_unbind *m);
int amqp_exchange_unbind_ok_decode(const uint8_t *p, size_t n, amqp_exchange_unbind_ok *m);
size_t amqp_exchange_unbind_ok_size(const amqp_exchange_unbind_ok *m);
uint8_t *amqp_exchange_unbind_ok_encode(uint8_t *p, const amqp_exchange_unbind_ok *m);
int amqp_queue_declare_decode(const uint8_t *p, size_t n, amqp_queue_declare *m);
size_t amqp_queue_declare_size(const amqp_queue_declare *m);
uint8_t *amqp_queue_declare_encode(uint8_t *p, const amqp_queue_declare *m);
int amqp_queue_declare_ok_decode(const uint8_t *p, size_t n, amqp_queue_declare_ok *m);
size_t amqp_queue_declare_ok_size(const amqp_queue_declare_ok *m);
uint8_t *amqp_queue_declare_ok_encode(uint8_t *p, const amqp_queue_declare_ok *m);
int amqp_queue_bind_decode(const uint8_t *p, size_t n, amqp_queue_bind *m);
size_t amqp_queue_bind_size(const amqp_queue_bind *m);
uint8_t *amqp_queue_bind_encode(uint8_t *p, const amqp_queue_bind *m);
int amqp_queue_bind_ok_decode(const uint8_t *p, size_t n, amqp_queue_bind_ok *m);
size_t amqp_queue_bind_ok_size(const amqp_queue_bind_ok *m);
uint8_t *amqp_queue_bind_ok_encode(uint8_t *p, const amqp_queue_bind_ok *m);
int amqp_queue_purge_decode(const uint8_t *p, size_t n, amqp_queue_purge *m);
size_t amqp_queue_purge_size(const amqp_queue_purge *m);
uint8_t *amqp_queue_purge_encode(uint8_t *p, const amqp_queue_purge *m);
int amqp_queue_purge_ok_decode(const uint8_t *p, size_t n, amqp_queue_purge_ok *m);
size_t amqp_queue_purge_ok_size(const amqp_queue_purge_ok *m);
uint8_t *amqp_queue_purge_ok_encode(uint8_t *p, const amqp_queue_purge_ok *m);
int amqp_queue_delete_decode(const uint8_t *p, size_t n, amqp_queue_delete *m);
size_t amqp_queue_delete_size(const amqp_queue_delete *m);
uint8_t *amqp_queue_delete_encode(uint8_t *p, const amqp_queue_delete *m);
int amqp_queue_delete_ok_decode(const uint8_t *p, size_t n, amqp_queue_delete_ok *m);
size_t amqp_queue_delete_ok_size(const amqp_queue_delete_ok *m);
uint8_t *amqp_queue_delete_ok_encode(uint8_t *p, const amqp_queue_delete_ok *m);
int amqp_queue_unbind_decode(const uint8_t *p, size_t n, amqp_queue_unbind *m);
size_t amqp_queue_unbind_size(const amqp_queue_unbind *m);
uint8_t *amqp_queue_unbind_encode(uint8_t *p, const amqp_queue_unbind *m);
int amqp_queue_unbind_ok_decode(const uint8_t *p, size_t n, amqp_queue_unbind_ok *m);
size_t amqp_queue_unbind_ok_size(const amqp_queue_unbind_ok *m);
uint8_t *amqp_queue_unbind_ok_encode(uint8_t *p, const amqp_queue_unbind_ok *m);
int amqp_basic_qos_decode(const uint8_t *p, size_t n, amqp_basic_qos *m);
size_t amqp_basic_qos_size(const amqp_basic_qos *m);
uint8_t *amqp_basic_qos_encode(uint8_t *p, const amqp_basic_qos *m);
int amqp_basic_qos_ok_decode(const uint8_t *p, size_t n, amqp_basic_qos_ok *m);
size_t amqp_basic_qos_ok_size(const amqp_basic_qos_ok *m);
uint8_t *amqp_basic_qos_ok_encode(uint8_t *p, const amqp_basic_qos_ok *m);
int amqp_basic_consume_decode(const uint8_t *p, size_t n, amqp_basic_consume *m);
size_t amqp_basic_consume_size(const amqp_basic_consume *m);
uint8_t *amqp_basic_consume_encode(uint8_t *p, const amqp_basic_consume *m);
int amqp_basic_consume_ok_decode(const uint8_t *p, size_t n, amqp_basic_consume_ok *m);
size_t amqp_basic_consume_ok_size(const amqp_basic_consume_ok *m);
uint8_t *amqp_basic_consume_ok_encode(uint8_t *p, const amqp_basic_consume_ok *m);
int amqp_basic_cancel_decode(const uint8_t *p, size_t n, amqp_basic_cancel *m);
size_t amqp_basic_cancel_size(const amqp_basic_cancel *m);
uint8_t *amqp_basic_cancel_encode(uint8_t *p, const amqp_basic_cancel *m);
int amqp_basic_cancel_ok_decode(const uint8_t *p, size_t n, amqp_basic_cancel_ok *m);
size_t amqp_basic_cancel_ok_size(const amqp_basic_cancel_ok *m);
uint8_t *amqp_basic_cancel_ok_encode(uint8_t *p, const amqp_basic_cancel_ok *m);
int amqp_basic_publish_decode(const uint8_t *p, size_t n, amqp_basic_publish *m);
size_t amqp_basic_publish_size(const amqp_basic_publish *m);
uint8_t *amqp_basic_publish_encode(uint8_t *p, const amqp_basic_publish *m);
int amqp_basic_return_decode(const uint8_t *p, size_t n, amqp_basic_return *m);
size_t amqp_basic_return_size(const amqp_basic_return *m);
uint8_t *amqp_basic_return_encode(uint8_t *p, const amqp_basic_return *m);
int amqp_basic_deliver_decode(const uint8_t *p, size_t n, amqp_basic_deliver *m);
size_t amqp_basic_deliver_size(const amqp_basic_deliver *m);
uint8_t *amqp_basic_deliver_encode(uint8_t *p, const amqp_basic_deliver *m);
int amqp_basic_get_decode(const uint8_t *p, size_t n, amqp_basic_get *m);
size_t amqp_basic_get_size(const amqp_basic_get *m);
uint8_t *amqp_basic_get_encode(uint8_t *p, const amqp_basic_get *m);
int amqp_basic_get_ok_decode(const uint8_t *p, size_t n, amqp_basic_get_ok *m);
size_t amqp_basic_get_ok_size(const amqp_basic_get_ok *m);
uint8_t *amqp_basic_get_ok_encode(uint8_t *p, const amqp_basic_get_ok *m);
int amqp_basic_get_empty_decode(const uint8_t *p, size_t n, amqp_basic_get_empty *m);
size_t amqp_basic_get_empty_size(const amqp_basic_get_empty *m);
uint8_t *amqp_basic_get_empty_encode(uint8_t *p, const amqp_basic_get_empty *m);
int amqp_basic_ack_decode(const uint8_t *p, size_t n, amqp_basic_ack *m);
size_t amqp_basic_ack_size(const amqp_basic_ack *m);
uint8_t *amqp_basic_ack_encode(uint8_t *p, const amqp_basic_ack *m);
int amqp_basic_reject_decode(const uint8_t *p, size_t n, amqp_basic_reject *m);
size_t amqp_basic_reject_size(const amqp_basic_reject *m);
uint8_t *amqp_basic_reject_encode(uint8_t *p, const amqp_basic_reject *m);
int amqp_basic_recover_async_decode(const uint8_t *p, size_t n, amqp_basic_recover_async *m);
size_t amqp_basic_recover_async_size(const amqp_basic_recover_async *m);
uint8_t *amqp_basic_recover_async_encode(uint8_t *p, const amqp_basic_recover_async *m);
int amqp_basic_recover_decode(const uint8_t *p, size_t n, amqp_basic_recover *m);
size_t amqp_basic_recover_size(const amqp_basic_recover *m);
uint8_t *amqp_basic_recover_encode(uint8_t *p, const amqp_basic_recover *m);
int amqp_basic_recover_ok_decode(const uint8_t *p, size_t n, amqp_basic_recover_ok *m);
size_t amqp_basic_recover_ok_size(const amqp_basic_recover_ok *m);
uint8_t *amqp_basic_recover_ok_encode(uint8_t *p, const amqp_basic_recover_ok *m);
int amqp_basic_nack_decode(const uint8_t *p, size_t n, amqp_basic_nack *m);
size_t amqp_basic_nack_size(const amqp_basic_nack *m);
uint8_t *amqp_basic_nack_encode(uint8_t *p, const amqp_basic_nack *m);
int amqp_tx_select_decode(const uint8_t *p, size_t n, amqp_tx_select *m);
size_t amqp_tx_select_size(const amqp_tx_select *m);
uint8_t *amqp_tx_select_encode(uint8_t *p, const amqp_tx_select *m);
int amqp_tx_select_ok_decode(const uint8_t *p, size_t n, amqp_tx_select_ok *m);
size_t amqp_tx_select_ok_size(const amqp_tx_select_ok *m);
uint8_t *amqp_tx_select_ok_encode(uint8_t *p, const amqp_tx_select_ok *m);
int amqp_tx_commit_decode(const uint8_t *p, size_t n, amqp_tx_commit *m);
size_t amqp_tx_commit_size(const amqp_tx_commit *m);
uint8_t *amqp_tx_commit_encode(uint8_t *p, const amqp_tx_commit *m);
int amqp_tx_commit_ok_decode(const uint8_t *p, size_t n, amqp_tx_commit_ok *m);
size_t amqp_tx_commit_ok_size(const amqp_tx_commit_ok *m);
uint8_t *amqp_tx_commit_ok_encode(uint8_t *p, const amqp_tx_commit_ok *m);
int amqp_tx_rollback_decode(const uint8_t *p, size_t n, amqp_tx_rollback *m);
size_t amqp_tx_rollback_size(const amqp_tx_rollback *m);
uint8_t *amqp_tx_rollback_encode(uint8_t *p, const amqp_tx_rollback *m);
int amqp_tx_rollback_ok_decode(const uint8_t *p, size_t n, amqp_tx_rollback_ok *m);
size_t amqp_tx_rollback_ok_size(const amqp_tx_rollback_ok *m);
uint8_t *amqp_tx_rollback_ok_encode(uint8_t *p, const amqp_tx_rollback_ok *m);
int amqp_confirm_select_decode(const uint8_t *p, size_t n, amqp_confirm_select *m);
size_t amqp_confirm_select_size(const amqp_confirm_select *m);
uint8_t *amqp_confirm_select_encode(uint8_t *p, const amqp_confirm_select *m);
int amqp_confirm_select_ok_decode(const uint8_t *p, size_t n, amqp_confirm_select_ok *m);
size_t amqp_confirm_select_ok_size(const amqp_confirm_select_ok *m);
uint8_t *amqp_confirm_select_ok_encode(uint8_t *p, const amqp_confirm_select_ok *m);

/* Decode the arguments of method `id` (the bytes after the 4-byte method id
 * in a method frame).  Returns AMQP_OK or a negative status; AMQP_EMETHOD for
 * an id the spec does not define; AMQP_EUTF8, once every field was read, when
 * a shortstr argument of a method without content is not UTF-8 (as RabbitMQ
 * checks them: amqp_utf8_ok). */
int amqp_method_decode(uint32_t id, const uint8_t *p, size_t n, amqp_method_args *out);
/* The encoded size of the arguments, and the encoder: `p` must have room for
 * amqp_method_size() bytes; returns the end of what was written. */
size_t amqp_method_size(uint32_t id, const void *args);
uint8_t *amqp_method_encode(uint32_t id, const void *args, uint8_t *p);
/* "basic.publish"; NULL for an unknown id. */
const char *amqp_method_name(uint32_t id);
bool amqp_method_known(uint32_t id);
bool amqp_method_has_content(uint32_t id);
bool amqp_method_synchronous(uint32_t id);

/* Reflection, for tests and diagnostics: every method's fields with their
 * wire type and where they sit in the method's struct.  Types are named as
 * in the spec: "octet" "short" "long" "longlong" "timestamp" "bit"
 * "shortstr" "longstr" "table". */
typedef struct amqp_field_info {
    const char *name;
    const char *type;
    size_t offset;
} amqp_field_info;

typedef struct amqp_method_info {
    uint32_t id;
    const char *name;
    size_t struct_size;
    size_t nfields;
    const amqp_field_info *fields;
} amqp_method_info;

extern const amqp_method_info amqp_methods[];
extern const size_t amqp_method_count;
extern const amqp_field_info amqp_basic_property_fields[];
extern const size_t amqp_basic_property_count;

/* basic-class content properties, in wire order; the flag bit of
 * the first is bit 15 of the property-flags word. */
#define AMQP_BASIC_CONTENT_TYPE_FLAG ((uint16_t)(1u << 15))
#define AMQP_BASIC_CONTENT_ENCODING_FLAG ((uint16_t)(1u << 14))
#define AMQP_BASIC_HEADERS_FLAG ((uint16_t)(1u << 13))
#define AMQP_BASIC_DELIVERY_MODE_FLAG ((uint16_t)(1u << 12))
#define AMQP_BASIC_PRIORITY_FLAG ((uint16_t)(1u << 11))
#define AMQP_BASIC_CORRELATION_ID_FLAG ((uint16_t)(1u << 10))
#define AMQP_BASIC_REPLY_TO_FLAG ((uint16_t)(1u << 9))
#define AMQP_BASIC_EXPIRATION_FLAG ((uint16_t)(1u << 8))
#define AMQP_BASIC_MESSAGE_ID_FLAG ((uint16_t)(1u << 7))
#define AMQP_BASIC_TIMESTAMP_FLAG ((uint16_t)(1u << 6))
#define AMQP_BASIC_TYPE_FLAG ((uint16_t)(1u << 5))
#define AMQP_BASIC_USER_ID_FLAG ((uint16_t)(1u << 4))
#define AMQP_BASIC_APP_ID_FLAG ((uint16_t)(1u << 3))
#define AMQP_BASIC_CLUSTER_ID_FLAG ((uint16_t)(1u << 2))

typedef struct amqp_basic_properties {
    uint16_t flags;
    amqp_str content_type;
    amqp_str content_encoding;
    amqp_table headers;
    uint8_t delivery_mode;
    uint8_t priority;
    amqp_str correlation_id;
    amqp_str reply_to;
    amqp_str expiration;
    amqp_str message_id;
    uint64_t timestamp;
    amqp_str type;
    amqp_str user_id;
    amqp_str app_id;
    amqp_str cluster_id;
} amqp_basic_properties;

/* Decode from the property-flags word to the end of the header
 * payload; fields whose flag is clear are zeroed. */
int amqp_basic_properties_decode(const uint8_t *p, size_t n, amqp_basic_properties *m);
size_t amqp_basic_properties_size(const amqp_basic_properties *m);
uint8_t *amqp_basic_properties_encode(uint8_t *p, const amqp_basic_properties *m);

#endif
