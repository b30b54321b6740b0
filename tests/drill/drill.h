/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TD_DRILL_H
#define TD_DRILL_H

/*
 * td-drill: runs scripts in the packetdrill dialect of
 * /work/shared/PACKETDRILL.md against lib/tcp on a virtual clock.
 *
 * A script is parsed completely first (drill_lex.c, drill_parse.c): any
 * syntax error or construct outside the dialect stops it with exit status 2
 * before anything runs. Then drill_run.c executes its events in order on a
 * fresh stack. drill_fmt.c prints segments in packetdrill's text form.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A script's verdict, also the exit status: the worst one wins. */
enum d_verdict { D_PASS = 0, D_FAIL = 1, D_BAD = 2 };

/* ------------------------------------------------------------------------ */
/* Options (PACKETDRILL.md 1)                                                */

struct d_opts {
	int ip;             /* 4 or 6 */
	int64_t tol_us;     /* --tolerance_usecs */
	double tol_pct;     /* --tolerance_percent */
	int64_t ts_tick_us; /* --tcp_ts_tick_usecs; 0: TS val not compared */
	bool verbose;
	bool has_ip, has_tol_us, has_tol_pct, has_ts_tick, has_verbose;
};

void d_opts_defaults(struct d_opts *o);

/*
 * Set one option by name ("ip_version", "tolerance_usecs", ...). @p value may
 * be NULL for flags. Returns 0, or -1 with @p err filled.
 */
int d_opt_set(struct d_opts *o, const char *name, const char *value, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Tokens                                                                    */

enum d_tok_kind {
	TK_EOF,
	TK_INT,      /* decimal or 0x hex; ival */
	TK_FLOAT,    /* text holds the literal */
	TK_WORD,     /* [A-Za-z0-9_]+ */
	TK_STRING,   /* "..." (text without quotes) */
	TK_BQ,       /* `...` (text without quotes) */
	TK_CODE,     /* %{ ... }% (text inside) */
	TK_ELLIPSIS, /* ... */
	TK_OPTION,   /* --name (text holds name) */
	TK_ADDR,     /* an IPv4 address literal */
	TK_CHAR,     /* any other single character */
};

struct d_tok {
	enum d_tok_kind k;
	int line;
	char ch;
	bool hex;
	int64_t ival;
	char *text;
};

/*
 * Split @p src into tokens. Returns 0 and an array ending with TK_EOF, or -1
 * after printing "PATH:LINE: syntax error ..." to stderr.
 */
int d_lex(const char *path, const char *src, struct d_tok **toks, size_t *ntoks);
void d_toks_free(struct d_tok *toks, size_t n);

/* ------------------------------------------------------------------------ */
/* Parsed script                                                             */

enum d_time_kind { DT_ABS, DT_REL, DT_ABS_RANGE, DT_REL_RANGE, DT_ANY, DT_NONE };

/* TCP option kinds as on the wire. */
enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WSCALE = 3,
	OPT_SACKOK = 4,
	OPT_SACK = 5,
	OPT_TS = 8
};

#define D_MAX_SACK 4
#define D_MAX_OPTS 40

struct d_tcpopt {
	uint8_t kind;
	uint8_t wscale;
	uint8_t nsack;
	uint16_t mss;
	uint32_t val, ecr;
	uint32_t sack[D_MAX_SACK][2];
};

/* A packet line. */
struct d_pkt {
	bool out; /* '>' */
	uint8_t flags;
	bool has_ack, has_win;
	bool nocheck; /* <...> */
	uint8_t nopt;
	uint8_t optlen; /* bytes the list takes on the wire */
	uint16_t win;
	uint32_t seq, len, ack;
	struct d_tcpopt opt[D_MAX_OPTS];
};

enum d_sc {
	SC_SOCKET,
	SC_BIND,
	SC_LISTEN,
	SC_ACCEPT,
	SC_CONNECT,
	SC_READ,
	SC_RECV,
	SC_WRITE,
	SC_SEND,
	SC_SHUTDOWN,
	SC_CLOSE,
	SC_FCNTL,
	SC_SETSOCKOPT,
	SC_GETSOCKOPT,
};

/* A system call line, with every argument resolved to a number. */
struct d_call {
	enum d_sc sc;
	const char *name;
	bool blocking; /* T...E */
	int64_t end_us;
	int fd;
	int64_t a[4];   /* per call: see drill_parse.c check_call() */
	int64_t ret;    /* expected return value */
	int err;        /* expected errno, 0 if none written */
	char text[160]; /* the call as written, for messages */
};

/* A `sysctl` or defaults.sh command. */
#define D_MAX_SYSCTL 16
struct d_cmd {
	bool defaults; /* defaults.sh: nothing to do */
	unsigned n;
	struct {
		char field[32]; /* td_tcp_config field */
		char value[24];
		char sysctl[48]; /* as written, for messages */
	} set[D_MAX_SYSCTL];
};

/* A %{ }% block: tcpi_state assertions. */
#define D_MAX_ASSERT 8
struct d_code {
	unsigned n;
	int state[D_MAX_ASSERT]; /* Linux TCP_* numbers */
};

enum d_ev_kind { DE_PKT, DE_CALL, DE_CMD, DE_CODE };

struct d_event {
	int line;
	enum d_time_kind tk;
	int64_t t, t_end; /* microseconds */
	enum d_ev_kind kind;
	union {
		struct d_pkt pkt;
		struct d_call call;
		struct d_cmd cmd;
		struct d_code code;
	} u;
};

struct d_script {
	const char *path;
	struct d_opts opts; /* set by option lines */
	struct d_event *ev;
	size_t nev, cap;
};

/*
 * Read and parse a script. Returns D_PASS, or D_BAD after printing the error
 * ("PATH:LINE: ...") to stderr.
 */
int d_parse_file(const char *path, struct d_script *s);
void d_script_free(struct d_script *s);

/* Map a sysctl assignment to a td_tcp_config field. 0, or -1 with @p err. */
int d_sysctl_map(const char *name, const char *value, char *field, size_t flen, char *out,
		 size_t olen, char *err, size_t errlen);

/* ------------------------------------------------------------------------ */
/* Symbols and formatting                                                    */

/* Linux value of a symbol (SOL_TCP, ECONNRESET, TCP_CLOSE_WAIT, ...). */
bool d_symbol(const char *name, int64_t *v);
/* Name of an errno value ("EPIPE"), or NULL. */
const char *d_errno_name(int err);
/* Name of a Linux TCP state number ("TCP_CLOSE_WAIT"), or NULL. */
const char *d_state_name(int s);

/* Flags as packetdrill writes them: "F.", "S.", "-". @p buf has room for 9. */
void d_flags_str(uint8_t flags, char *buf);

/* "0.250" (ms precision) or "0.250123". */
void d_time_str(int64_t us, char *buf, size_t len);

/* Options list as packetdrill writes it, "<mss 1460,nop,wscale 8>", or "" if none. */
void d_opts_str(const struct d_tcpopt *o, unsigned n, bool nocheck, char *buf, size_t len);

/*
 * One segment in packetdrill's text form, "F. 101:101(0) ack 1 win 502 <...>".
 * @p has_ack / @p has_win: print those fields.
 */
void d_seg_str(uint8_t flags, uint32_t seq, uint32_t len, bool has_ack, uint32_t ack, bool has_win,
	       uint16_t win, const char *opts, char *buf, size_t blen);

/* Parse raw option bytes into a list. Returns the count, or -1 if malformed. */
int d_opts_decode(const uint8_t *p, unsigned len, struct d_tcpopt *o, unsigned max);
/* Encode a list; returns bytes written (at most 40), -1 if too long. */
int d_opts_encode(const struct d_tcpopt *o, unsigned n, uint8_t *p);

/* ------------------------------------------------------------------------ */
/* Execution                                                                 */

/*
 * Run a parsed script. @p cmdline holds the command-line options, which win
 * over the script's option lines. Returns the verdict.
 */
int d_run_script(const struct d_script *s, const struct d_opts *cmdline);

/* Print "PATH:LINE: message" to stderr. */
void d_msg(const char *path, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* TD_DRILL_H */
