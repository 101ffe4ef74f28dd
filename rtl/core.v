// Accelerator core: SRAMs, sequencer, L0 skew, systolic MAC array, OFIFO, SFU and output FIFO.
//
//   act_wr/wgt_wr --> [act SRAM] [MAC array's weight banks]   (two regions each: a host write is accepted
//                                                              unless a queued or running command reads
//                                                              its region, or at a fill's level: below)
//   cmd --> [cmd FIFO] --> [sequencer] --reads--> SRAMs --> [L0 skew] --> [MAC array] --> [OFIFO]
//                             |  tag per token --> [tag FIFO] ----------------------------.   |
//                             '-- credits: tokens in flight <= CREDITS                    v   v
//                                                              out <-- [out FIFO] <-- [SFU + acc SRAM]
// psum_* shows each psum vector as the SFU takes it from the OFIFO, acc_* each finished raw sum; both are
// observation ports for monitors and carry no handshake.
`include "fields.vh"
module core #(
    parameter integer ROWS      = 8,
    parameter integer COLS      = 8,
    parameter integer A_W       = 4,
    parameter integer W_W       = 4,
    parameter integer PSUM_W    = 16,
    parameter integer ACC_W     = 16,
    parameter integer ACT_DEPTH = 1024,
    parameter integer WGT_DEPTH = 256,
    parameter integer ACC_DEPTH = 256,
    parameter integer CMD_DEPTH = 4,
    parameter integer OUT_DEPTH = 8,
    // tokens in flight, also the OFIFO and tag FIFO depth: above the pipeline latency, so steady state never
    // stalls (accel_host.config.CoreConfig.credits); at least ROWS (an output-stationary block reserves ROWS).
    // Only the formal proofs set it, smaller, to reach full FIFOs in few cycles
    parameter integer CREDITS   = 2 * (ROWS + COLS) + 8,
    parameter integer FAULT_ROW = 0,    // fault injection (tests only): psum bit FAULT_BIT of
    parameter integer FAULT_COL = 0,    // PE (FAULT_ROW, FAULT_COL) stuck at 1; -1 = no fault
    parameter integer FAULT_BIT = -1,
    parameter integer FOLD_GAP  = 0,    // fault injection (tests only): see sequencer.v
    parameter integer FAULT_INV = 0     // fault injection (tests only): 1, 3, 4, 5 or 6 breaks invariants of
                                        // the simulation checks below (see its uses), to show that each can
                                        // fire; 7 breaks the fills' level, which only the formal check of the
                                        // fills (FORMAL, below) sees
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      act_wr_valid,
    output wire                      act_wr_ready,
    // Addresses are 16-bit fields of the interface whatever the depths; bits above a memory's depth are
    // ignored (waived below), and the host mapper rejects layers that do not fit.
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [15:0]               act_wr_addr,
    input  wire                      act_wr_region,  // which half of the memory (the command's act_region)
    input  wire [ROWS*A_W-1:0]       act_wr_data,
    input  wire                      wgt_wr_valid,
    output wire                      wgt_wr_ready,
    input  wire [15:0]               wgt_wr_addr,
    input  wire                      wgt_wr_region,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [2*ROWS*COLS*W_W-1:0] wgt_wr_data,   // {high weights, low weights}: see the token below
    input  wire                      cmd_valid,
    output wire                      cmd_ready,
    input  wire [`CMD_W-1:0]         cmd_data,
    output wire                      out_valid,
    input  wire                      out_ready,
    output wire [COLS*ACC_W-1:0]     out_data,
    output wire [15:0]               out_addr,
    output wire [15:0]               out_id,
    output wire                      psum_valid,
    output wire [COLS*PSUM_W-1:0]    psum_data,
    output wire [3:0]                psum_kij,
    output wire [15:0]               psum_nij,
    output wire [7:0]                psum_ic,
    output wire [15:0]               psum_id,
    output wire                      acc_valid,
    output wire [COLS*ACC_W-1:0]     acc_data,
    output wire [15:0]               acc_addr,
    output wire [15:0]               acc_id,
    output wire                      busy
);
    localparam integer CMD_W   = `CMD_W;   // fields.vh, generated from accel_host/fields.py
    localparam integer TAG_W   = `TAG_W;
    localparam integer TOK_W   = A_W + 1;   // a row's token lane: valid, activation
    localparam integer CW      = $clog2(CREDITS + 1);

    // ---- commands and sequencer
    wire             q_valid, q_ready;
    wire [CMD_W-1:0] q_data;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [$clog2(CMD_DEPTH+1)-1:0] cmd_count;   // not needed: the command FIFO's ready is the handshake
    /* verilator lint_on UNUSEDSIGNAL */
    wire             fifo_ready, fill_ok;   // fill_ok: below, a command that starts a fill waits for free regions
    assign cmd_ready = fifo_ready && fill_ok;
    fifo #(.WIDTH(CMD_W), .DEPTH(CMD_DEPTH)) u_cmd_fifo (
        .clk(clk), .rst(rst), .in_valid(cmd_valid && fill_ok), .in_ready(fifo_ready), .in_data(cmd_data),
        .out_valid(q_valid), .out_ready(q_ready), .out_data(q_data), .count(cmd_count));

    reg  [CW-1:0]    inflight;     // vectors issued or reserved that the SFU has not taken yet
    wire [15:0]      credits_left = {{(16 - CW){1'b0}}, CREDITS[CW-1:0] - inflight};
    // fault knobs (tests only) sit on lines of their own, so that every functional line is a mutation site
    wire [15:0]      credits_free = (FAULT_INV == 1) ? 16'hFFFF : credits_left;
    wire             act_ren, wgt_ren, seq_idle, tag_push;
    wire             act_ok, wgt_ok;    // the word the sequencer would read is written (fills, below)
    /* verilator lint_off UNUSEDSIGNAL */
    wire [7:0]       reserve;           // at most ROWS, below 2^CW
    wire [CW-1:0]    reserve_cw;        // reserve in inflight's width: CW is 9 from 64x64 on (CREDITS 264)
    wire             credit_ok = credits_free != 16'd0;   // observed by the coverage model only
    wire             issue = act_ren;   // a token is issued (either dataflow); observed by the tests only
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_off UNUSEDSIGNAL */
    wire [15:0]      act_raddr, wgt_raddr;   // high bits beyond the depths: see the port comment
    /* verilator lint_on UNUSEDSIGNAL */
    wire [TAG_W-1:0] seq_tag;
    wire             drained;           // nothing in flight, no preload on its way down the weight banks
    wire             tok_valid, tok_wl, tok_wsel, tok_a2, tok_os, tok_first, wgt_os, os_run;
    wire             seq_act_region, seq_wgt_region;
    /* verilator lint_off UNUSEDSIGNAL */
    wire             seq_last_os;       // read by the formal properties only
    /* verilator lint_on UNUSEDSIGNAL */
    wire [7:0]       tok_rows;
    generate
        if (CW > 8) begin : g_reserve_wide
            assign reserve_cw = {{(CW - 8){1'b0}}, reserve};
        end else begin : g_reserve_narrow
            assign reserve_cw = reserve[CW-1:0];
        end
    endgenerate
    sequencer #(.ROWS(ROWS), .FOLD_GAP(FOLD_GAP)) u_seq (
        .clk(clk), .rst(rst), .cmd_valid(q_valid), .cmd_ready(q_ready), .cmd_data(q_data),
        .credits_free(credits_free), .drained(drained), .act_ok(act_ok), .wgt_ok(wgt_ok), .act_ren(act_ren), .act_raddr(act_raddr),
        .wgt_ren(wgt_ren), .wgt_raddr(wgt_raddr), .wgt_os(wgt_os), .os_run(os_run), .tag_push(tag_push), .reserve(reserve), .tag(seq_tag),
        .tok_valid(tok_valid), .tok_wl(tok_wl), .tok_wsel(tok_wsel), .tok_a2(tok_a2), .tok_os(tok_os),
        .tok_first(tok_first), .tok_rows(tok_rows), .act_region(seq_act_region), .wgt_region(seq_wgt_region),
        .idle(seq_idle), .last_os(seq_last_os));

    // ---- memories: two regions each (the top address bit). The host writes a region while no command that
    // reads it is queued or running and no weight-bank preload still reads it (mac_array.v), so it can fill one
    // while the core computes from the other; a write to a region in use waits (ready low), it never lands.
    // Queued commands are counted per region as they enter and leave the command FIFO.
    //
    // Fills: a command with act_fill (wgt_fill) starts a fill of its region at act_base (wgt_base); it enters
    // the command FIFO only while that region is free. From then on the region's level is the next word the
    // host must write: a write at the level lands (and the level steps) even while the region is in use, any
    // other write to a region in use waits as above, and the sequencer waits before reading a word at or above
    // the level. So the core computes from words as they arrive, never reads one the fill has not written,
    // and no write lands on a word it may already have read. The level is "full" (no wait) after reset, and
    // again after a write off the level into a free region (the host writing it in its own order).
    localparam integer QW = $clog2(CMD_DEPTH + 1);
    localparam integer AA = $clog2(ACT_DEPTH);
    localparam integer WA = $clog2(WGT_DEPTH);
    localparam [AA:0]  ACT_STEP = (FAULT_INV == 7) ? 2 : 1;   // FAULT_INV == 7: an activation level skips a word
    wire             cmd_push = cmd_valid && cmd_ready;
    wire             cmd_pop  = q_valid && q_ready;
    wire [1:0]       pre_region;   // a preload still reads region 1, region 0
    wire [1:0]       act_in_use, wgt_in_use;
    wire [1:0]       act_append, wgt_append;   // a write to region g at its level would land and step it
    wire [2*(AA+1)-1:0] act_levels;
    wire [2*(WA+1)-1:0] wgt_levels;
    wire act_we, wgt_we;
    genvar g;
    generate
        for (g = 0; g < 2; g = g + 1) begin : g_region
            wire act_in  = cmd_push && (cmd_data[`CMD_ACT_REGION] == g[0]);
            wire act_out = cmd_pop && (q_data[`CMD_ACT_REGION] == g[0]);
            wire wgt_in  = cmd_push && (cmd_data[`CMD_WGT_REGION] == g[0]);
            wire wgt_out = cmd_pop && (q_data[`CMD_WGT_REGION] == g[0]);
            reg  [QW-1:0] act_queued, wgt_queued;   // commands in the FIFO that read this region
            always @(posedge clk) begin
                if (rst) begin
                    act_queued <= {QW{1'b0}};
                    wgt_queued <= {QW{1'b0}};
                end else begin
                    act_queued <= act_queued + {{(QW-1){1'b0}}, act_in} - {{(QW-1){1'b0}}, act_out};
                    wgt_queued <= wgt_queued + {{(QW-1){1'b0}}, wgt_in} - {{(QW-1){1'b0}}, wgt_out};
                end
            end
            assign act_in_use[g] = (act_queued != {QW{1'b0}}) || (!seq_idle && seq_act_region == g[0]);
            assign wgt_in_use[g] = (wgt_queued != {QW{1'b0}}) || (!seq_idle && seq_wgt_region == g[0]) ||
                                   pre_region[g];
            // the fill level ({1, 0...} = full: every word may be read)
            reg  [AA:0] act_level;
            reg  [WA:0] wgt_level;
            wire act_start = cmd_push && cmd_data[`CMD_ACT_FILL] && (cmd_data[`CMD_ACT_REGION] == g[0]);
            wire wgt_start = cmd_push && cmd_data[`CMD_WGT_FILL] && (cmd_data[`CMD_WGT_REGION] == g[0]);
            assign act_append[g] = !act_level[AA] && (act_wr_addr[AA-1:0] == act_level[AA-1:0]);
            assign wgt_append[g] = !wgt_level[WA] && (wgt_wr_addr[WA-1:0] == wgt_level[WA-1:0]);
            always @(posedge clk) begin
                if (rst) begin
                    act_level <= {1'b1, {AA{1'b0}}};
                    wgt_level <= {1'b1, {WA{1'b0}}};
                end else begin
                    // a write that lands at the base in the very cycle the fill starts (the region is still
                    // free) is its first word
                    if (act_start)
                        act_level <= {1'b0, cmd_data[`CMD_ACT_BASE_LSB +: AA]} +
                                     {{AA{1'b0}}, act_we && act_wr_region == g[0] &&
                                                  act_wr_addr[AA-1:0] == cmd_data[`CMD_ACT_BASE_LSB +: AA]};
                    else if (act_we && act_wr_region == g[0])
                        act_level <= act_append[g] ? act_level + ACT_STEP : {1'b1, {AA{1'b0}}};
                    if (wgt_start)
                        wgt_level <= {1'b0, cmd_data[`CMD_WGT_BASE_LSB +: WA]} +
                                     {{WA{1'b0}}, wgt_we && wgt_wr_region == g[0] &&
                                                  wgt_wr_addr[WA-1:0] == cmd_data[`CMD_WGT_BASE_LSB +: WA]};
                    else if (wgt_we && wgt_wr_region == g[0])
                        wgt_level <= wgt_append[g] ? wgt_level + 1'b1 : {1'b1, {WA{1'b0}}};
                end
            end
            assign act_levels[g*(AA+1) +: AA+1] = act_level;
            assign wgt_levels[g*(WA+1) +: WA+1] = wgt_level;
        end
    endgenerate
    assign fill_ok = !(cmd_data[`CMD_ACT_FILL] && act_in_use[cmd_data[`CMD_ACT_REGION]]) &&
                     !(cmd_data[`CMD_WGT_FILL] && wgt_in_use[cmd_data[`CMD_WGT_REGION]]);
    wire [AA:0] act_rd_level = seq_act_region ? act_levels[AA+1 +: AA+1] : act_levels[0 +: AA+1];
    wire [WA:0] wgt_rd_level = seq_wgt_region ? wgt_levels[WA+1 +: WA+1] : wgt_levels[0 +: WA+1];
    wire act_rd_ok = {1'b0, act_raddr[AA-1:0]} < act_rd_level;
    wire wgt_rd_ok = {1'b0, wgt_raddr[WA-1:0]} < wgt_rd_level;
    assign act_ok = act_rd_ok || (FAULT_INV == 6);
    assign wgt_ok = wgt_rd_ok || (FAULT_INV == 6);
    wire preloading;   // drained waits for it too: redundant (see busy), but it keeps prove_sram's induction short
    assign drained = (inflight == {CW{1'b0}}) && !preloading;
    wire act_free = !act_in_use[act_wr_region] || act_append[act_wr_region];
    wire wgt_free = !wgt_in_use[wgt_wr_region] || wgt_append[wgt_wr_region];
    assign act_wr_ready = act_free || (FAULT_INV == 5);
    assign wgt_wr_ready = wgt_free || (FAULT_INV == 5);
    wire [ROWS*A_W-1:0]      act_rdata;
    assign act_we = act_wr_valid && act_wr_ready;
    assign wgt_we = wgt_wr_valid && wgt_wr_ready;
    // the activation memory reads act_raddr every cycle: a read is used only where the sequencer issued it
    // (tok_valid, the lanes' row_valid), and its enable would put the issue decision in front of the block RAM
    // (docs/synth.md); act_ren stays the read the checks below reason about
    sram_1r1w #(.WIDTH(ROWS*A_W), .DEPTH(2 << AA)) u_act_sram (   // a region: ACT_DEPTH rounded up to 2^AA
        .clk(clk), .ren(1'b1), .raddr({seq_act_region, act_raddr[AA-1:0]}), .rdata(act_rdata),
        .we(act_we), .waddr({act_wr_region, act_wr_addr[AA-1:0]}), .wdata(act_wr_data));
    // the weight memory lives in the array, one bank per anti-diagonal (mac_array.v): a weight-stationary
    // preload reaches each PE with its weight-load token, an output-stationary step reads every bank at once
    wire wgt_pre  = wgt_ren && !wgt_os;
    /* verilator lint_off UNUSEDSIGNAL */
    // a host write into a region read in the same cycle (unless it lands at a fill's level while the read is
    // below it), a read of a word a fill has not written, or two reads of the weight banks' one read port
    // (invariant 5; read by the checks below only: an output-stationary command takes the banks' read port in
    // every cycle it runs, os_run, not only in its steps' cycles). A fill's write during a preload on its way down the banks
    // is not a clash: the preload's word was below the level when bank 0 read it, the level only grows while
    // the region is in use, and the write is at the level.
    wire act_wr_fill = act_append[act_wr_region];
    wire wgt_wr_fill = wgt_append[wgt_wr_region];
    wire sram_clash = (act_we && act_ren && act_wr_region == seq_act_region && !(act_wr_fill && act_rd_ok)) ||
                      (wgt_we && !wgt_wr_fill && ((wgt_ren && wgt_wr_region == seq_wgt_region) ||
                                                  pre_region[wgt_wr_region])) ||
                      (wgt_we && wgt_wr_fill && wgt_ren && wgt_wr_region == seq_wgt_region && !wgt_rd_ok) ||
                      (act_ren && !act_rd_ok) || (wgt_ren && !wgt_rd_ok) ||
                      (os_run && preloading);
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- token per row -> L0 skew -> array; the token's control once (mac_array.v passes it per diagonal)
    wire [ROWS*TOK_W-1:0] tok_lanes, tok_skewed;
    wire [ROWS*A_W-1:0]        arr_a;
    wire [ROWS-1:0]            arr_v;
    genvar r;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_tok
            // output-stationary: a row past the last block's positions gets no valid token, so it holds no
            // sum and drains nothing (one tag per position)
            wire row_valid = tok_valid && (!tok_os || {24'd0, tok_rows} > r);
            assign tok_lanes[r*TOK_W +: TOK_W] = {row_valid, row_valid ? act_rdata[r*A_W +: A_W] : {A_W{1'b0}}};
            assign {arr_v[r], arr_a[r*A_W +: A_W]} = tok_skewed[r*TOK_W +: TOK_W];
        end
    endgenerate
    // the array's inputs leave a register, not the activation memory's read port: no path runs from a block
    // RAM's output into a PE's multiplier and adder (docs/synth.md); the cycle it costs, the OFIFO's
    // pass-through (ofifo.v) wins back. Bank 0's preload read follows a cycle later with it (mac_array.v)
    reg [ROWS*TOK_W-1:0] tok_q;
    always @(posedge clk) tok_q <= rst ? {ROWS*TOK_W{1'b0}} : tok_lanes;
    // the control, in the same cycle as row 0's lane (reset: the weight load, as in mac_array.v's g_diag)
    reg ctl_wl, ctl_wsel, ctl_a2, ctl_os, ctl_first;
    always @(posedge clk) begin
        ctl_wl    <= rst ? 1'b0 : tok_wl;
        ctl_wsel  <= tok_wsel;
        ctl_a2    <= tok_a2;
        ctl_os    <= tok_os;
        ctl_first <= tok_first;
    end
    l0_skew #(.LANES(ROWS), .W(TOK_W)) u_l0 (.clk(clk), .rst(rst), .in(tok_q), .out(tok_skewed));

    // output-stationary: a step's weight word holds column c's {high, low} weight at [c*2*W_W +: 2*W_W]; it
    // enters the top of the array skewed like the activations (column c c cycles late), zero otherwise
    wire [COLS*2*W_W-1:0] wgt_north;
    wire [COLS*2*W_W-1:0] north_in = (tok_os && tok_valid) ? wgt_north : {COLS*2*W_W{1'b0}};
    wire [COLS*2*W_W-1:0] north_skewed;
    // likewise: the weight banks' read ports reach no PE's adder. Not reset: data only, which a PE takes with a
    // valid output-stationary token alone (mutation testing found its reset value unobservable)
    reg [COLS*2*W_W-1:0] north_q;
    always @(posedge clk) north_q <= north_in;
    l0_skew #(.LANES(COLS), .W(2*W_W)) u_north (.clk(clk), .rst(rst), .in(north_q), .out(north_skewed));

    wire [COLS*PSUM_W-1:0] p_south, p_north;
    wire [COLS-1:0]        v_south, v_north;
    mac_array #(.ROWS(ROWS), .COLS(COLS), .A_W(A_W), .W_W(W_W), .PSUM_W(PSUM_W), .WGT_DEPTH(WGT_DEPTH),
                .FAULT_ROW(FAULT_ROW), .FAULT_COL(FAULT_COL), .FAULT_BIT(FAULT_BIT)) u_array (
        .clk(clk), .rst(rst), .wgt_we(wgt_we), .wgt_waddr({wgt_wr_region, wgt_wr_addr[WA-1:0]}),
        .wgt_wdata(wgt_wr_data), .wgt_pre(wgt_pre), .wgt_steps(os_run),
        .wgt_raddr({seq_wgt_region, wgt_raddr[WA-1:0]}), .wgt_north(wgt_north), .preloading(preloading),
        .pre_region(pre_region),
        .a_west(arr_a), .valid_west(arr_v), .wsel_in(ctl_wsel), .mode_in(ctl_a2), .os_in(ctl_os),
        .first_in(ctl_first), .wl_in(ctl_wl), .w_north(north_skewed),
        .p_south(p_south), .valid_south(v_south), .p_north(p_north), .valid_north(v_north));

    // the OFIFO takes psums from the bottom (WS) or finished sums from the top (OS); the sequencer drains the
    // core between commands of different dataflows, so a column never gets both at once
    // (put together by one chain of concatenations, columns 0..oc in _t of column oc, not slice by slice: Icarus
    // resolves a net assigned slice by slice again, bit by bit, whenever any slice changes; mac_array.v's g_edge)
    wire [COLS*PSUM_W-1:0] to_ofifo;
    genvar oc;
    generate
        for (oc = 0; oc < COLS; oc = oc + 1) begin : g_omux
            wire [PSUM_W-1:0]        _c = v_north[oc] ? p_north[oc*PSUM_W +: PSUM_W] : p_south[oc*PSUM_W +: PSUM_W];
            wire [(oc+1)*PSUM_W-1:0] _t;
            if (oc == 0) begin : g_first
                assign _t = _c;
            end else begin : g_next
                assign _t = {_c, g_omux[oc-1]._t};
            end
        end
    endgenerate
    assign to_ofifo = g_omux[COLS-1]._t;

    // ---- OFIFO + tags -> SFU -> output FIFO
    wire                   of_valid, sfu_ready;
    wire [COLS*PSUM_W-1:0] of_data;
    /* verilator lint_off UNUSEDSIGNAL */
    wire                   of_overflow, tag_ready, out_in_ready;   // read by the simulation checks only
    /* verilator lint_on UNUSEDSIGNAL */
    ofifo #(.COLS(COLS), .PSUM_W(PSUM_W), .DEPTH(CREDITS)) u_ofifo (
        .clk(clk), .rst(rst), .in_valid(v_south | v_north), .in_data(to_ofifo),
        .out_valid(of_valid), .out_ready(sfu_ready), .out_data(of_data), .overflow(of_overflow));

    /* verilator lint_off UNUSEDSIGNAL */
    wire             tag_valid;   // always set when the OFIFO has a vector: one tag per issued token
    /* verilator lint_on UNUSEDSIGNAL */
    wire [TAG_W-1:0] tag;
    wire             take = of_valid && sfu_ready;
    reg              drop_toggle;  // FAULT_INV == 4: every other tag lost
    always @(posedge clk) drop_toggle <= rst ? 1'b0 : (tag_push ? ~drop_toggle : drop_toggle);
    wire             tag_in = tag_push && !(FAULT_INV == 4 && drop_toggle);
    /* verilator lint_off PINCONNECTEMPTY */
    fifo #(.WIDTH(TAG_W), .DEPTH(CREDITS)) u_tag_fifo (
        .clk(clk), .rst(rst), .in_valid(tag_in), .in_ready(tag_ready), .in_data(seq_tag),
        .out_valid(tag_valid), .out_ready(take), .out_data(tag), .count());
    /* verilator lint_on PINCONNECTEMPTY */

    always @(posedge clk) begin
        if (rst) inflight <= {CW{1'b0}};
        else     inflight <= inflight + reserve_cw - {{(CW-1){1'b0}}, take};
    end

    // the SFU emits one cycle after taking the tag: carry the command id along
    reg [15:0] tag_out_id;
    always @(posedge clk) begin
        if (rst)       tag_out_id <= 16'd0;
        else if (take) tag_out_id <= tag[`TAG_ID];
    end

    localparam integer OW = 32 + COLS * ACC_W;
    wire [$clog2(OUT_DEPTH+1)-1:0] out_count;
    wire             sfu_out_valid, sfu_active;
    wire [COLS*ACC_W-1:0] sfu_out_data;
    wire [15:0]      sfu_out_addr;
    wire             out_room = {{(32 - $clog2(OUT_DEPTH+1)){1'b0}}, out_count} + 32'd2 <= OUT_DEPTH;
    wire             out_space_ok = out_room || (FAULT_INV == 3);
    sfu #(.COLS(COLS), .PSUM_W(PSUM_W), .ACC_W(ACC_W), .DEPTH(ACC_DEPTH)) u_sfu (
        .clk(clk), .rst(rst), .in_valid(of_valid), .in_ready(sfu_ready), .in_psum(of_data),
        .in_addr(tag[`TAG_ACC_ADDR]), .in_clear(tag[`TAG_CLEAR]), .in_last(tag[`TAG_LAST]), .in_relu(tag[`TAG_RELU]),
        .out_space_ok(out_space_ok), .out_valid(sfu_out_valid), .out_data(sfu_out_data),
        .out_addr(sfu_out_addr), .acc_data(acc_data), .active(sfu_active));

    /* verilator lint_off PINCONNECTEMPTY */
    fifo #(.WIDTH(OW), .DEPTH(OUT_DEPTH)) u_out_fifo (
        .clk(clk), .rst(rst), .in_valid(sfu_out_valid), .in_ready(out_in_ready),
        .in_data({tag_out_id, sfu_out_addr, sfu_out_data}),
        .out_valid(out_valid), .out_ready(out_ready), .out_data({out_id, out_addr, out_data}), .count(out_count));
    /* verilator lint_on PINCONNECTEMPTY */

    assign psum_valid = take;
    assign psum_data  = of_data;
    assign psum_kij   = tag[`TAG_KIJ];
    assign psum_nij   = tag[`TAG_NIJ];
    assign psum_ic    = tag[`TAG_IC];
    assign psum_id    = tag[`TAG_ID];
    assign acc_id     = tag_out_id;
    assign acc_valid  = sfu_out_valid;
    assign acc_addr   = sfu_out_addr;
    // busy: a command queued or running, a vector in flight or in the SFU's last stage (the sum it writes back,
    // or emits, the cycle after the SFU took the last vector), or an output waiting. A preload still on its way
    // down the weight banks needs no term: the token it rode with is in flight for longer (its vector leaves the
    // array ROWS + COLS cycles after the preload at the earliest, the last bank reads ROWS + COLS - 1 after it)
    assign busy       = !seq_idle || q_valid || (inflight != 0) || sfu_active || out_valid;

`ifndef SYNTHESIS
    // ---- simulation checks of the invariants the design relies on (kept out of synthesis). Each sets a
    // sticky bit of assert_fired (read by the testbench after every layer) and prints a message.
    //   0 credits:   tokens in flight never exceed CREDITS (the OFIFO and tag FIFO depth)
    //   1 ofifo:     no push into a full OFIFO column
    //   2 tag fifo:  no push into a full tag FIFO
    //   3 out fifo:  no push into a full output FIFO (the SFU emits only with room for two)
    //   4 tag:       a tag for every OFIFO vector the SFU takes
    //   5 sram:      no host write into a memory region that the sequencer or a preload reads in the same
    //                cycle (but a fill's, at its level, above every word read), no read of a word a fill has
    //                not written, no output-stationary read of the weight banks while a preload reads them
    localparam integer N_INV = 6;
    reg  [N_INV-1:0] assert_fired;
    wire [N_INV-1:0] violation = {
        sram_clash,
        of_valid && sfu_ready && !tag_valid,
        sfu_out_valid && !out_in_ready,
        tag_in && !tag_ready,
        of_overflow,
        inflight > CREDITS[CW-1:0]};
    always @(posedge clk) begin
        if (rst) assert_fired <= {N_INV{1'b0}};
        else begin
            assert_fired <= assert_fired | violation;
            if (violation != {N_INV{1'b0}})
                $display("ASSERTION core %m at %0t: invariant(s) %b violated (bits: sram tag out_fifo tag_fifo ofifo credits)",
                         $time, violation);
        end
    end
`endif
`ifdef FORMAL
    // The same invariants as properties for `make formal` (formal/core.sby): inputs are free after reset (any
    // command word, any write, any out_ready, any timing), so nothing is assumed of the host but reset in the
    // first cycle. F_CHECK (a `define, one bit per invariant, all by default) picks which are asserted, so a
    // task can prove one at a time.
`ifndef F_CHECK
`define F_CHECK 6'b111111
`endif
    localparam [5:0] F_CHECK = `F_CHECK;
    reg f_past = 1'b0;
    always @(posedge clk) f_past <= 1'b1;
    always @(*) if (!f_past) assume(rst);
    always @(*) begin
        if (f_past && !rst) begin
            if (F_CHECK[0]) assert(!(inflight > CREDITS[CW-1:0]));                    // inv 0 credits
            if (F_CHECK[1]) assert(!of_overflow);                                     // inv 1 ofifo
            if (F_CHECK[2]) assert(!(tag_in && !tag_ready));                          // inv 2 tag fifo
            if (F_CHECK[3]) assert(!(sfu_out_valid && !out_in_ready));                // inv 3 out fifo
            if (F_CHECK[4]) assert(!(of_valid && sfu_ready && !tag_valid));           // inv 4 tag
            if (F_CHECK[5]) assert(!(sram_clash));                                     // inv 5 sram
            // auxiliary for invariant 5's induction: a preload on its way down the weight banks (bank 0's read
            // a cycle after the sequencer's, then one bank per cycle) is a weight-stationary command's, so an
            // output-stationary command waits for it (cmd_ready: drained) and its steps never share the banks'
            // read port with it
            if (F_CHECK[5]) assert(!(preloading && seq_last_os));                    // aux preload dataflow
        end
    end
    // Fills, checked apart from the levels that implement them: one word of each memory, chosen by the solver,
    // and whether the current fill has written it. A fill's start marks the words from its base up unwritten
    // (those below, and one written at the base in that very cycle, written); a write landing on the word marks
    // it, and a write off the level into a free region marks every word (the host took the region over).
    // Asserted with invariant 5: the sequencer never reads the word unwritten, and no write lands on it after a
    // read while its region stays in use. The last two assertions tie the marks to the levels (they make the
    // others inductive; a level that stepped wrongly, or a lost write, breaks them).
    (* anyconst *) reg [AA-1:0] f_aw;
    (* anyconst *) reg [WA-1:0] f_ww;
    (* anyconst *) reg          f_ar, f_wr;
    reg  f_a_written, f_a_read, f_w_written, f_w_read;
    wire [AA:0] f_alevel = f_ar ? act_levels[AA+1 +: AA+1] : act_levels[0 +: AA+1];
    wire [WA:0] f_wlevel = f_wr ? wgt_levels[WA+1 +: WA+1] : wgt_levels[0 +: WA+1];
    wire f_a_start = cmd_push && cmd_data[`CMD_ACT_FILL] && (cmd_data[`CMD_ACT_REGION] == f_ar);
    wire f_w_start = cmd_push && cmd_data[`CMD_WGT_FILL] && (cmd_data[`CMD_WGT_REGION] == f_wr);
    wire f_a_land  = act_we && (act_wr_region == f_ar);
    wire f_w_land  = wgt_we && (wgt_wr_region == f_wr);
    wire f_a_hit   = f_a_land && (act_wr_addr[AA-1:0] == f_aw);
    wire f_w_hit   = f_w_land && (wgt_wr_addr[WA-1:0] == f_ww);
    wire f_a_rd    = act_ren && (seq_act_region == f_ar) && (act_raddr[AA-1:0] == f_aw);
    wire f_w_rd    = wgt_ren && (seq_wgt_region == f_wr) && (wgt_raddr[WA-1:0] == f_ww);
    always @(posedge clk) begin
        if (rst) begin
            f_a_written <= 1'b1; f_w_written <= 1'b1; f_a_read <= 1'b0; f_w_read <= 1'b0;
        end else begin
            if (f_a_start)
                f_a_written <= (f_aw < cmd_data[`CMD_ACT_BASE_LSB +: AA]) || f_a_hit;
            else if (f_a_hit || (f_a_land && !act_in_use[f_ar] && !act_append[f_ar]))
                f_a_written <= 1'b1;
            if (f_w_start)
                f_w_written <= (f_ww < cmd_data[`CMD_WGT_BASE_LSB +: WA]) || f_w_hit;
            else if (f_w_hit || (f_w_land && !wgt_in_use[f_wr] && !wgt_append[f_wr]))
                f_w_written <= 1'b1;
            f_a_read <= act_in_use[f_ar] && (f_a_read || f_a_rd);
            f_w_read <= wgt_in_use[f_wr] && (f_w_read || f_w_rd);
        end
    end
    always @(*) begin
        if (f_past && !rst && F_CHECK[5]) begin
            assert(!(f_a_rd && !f_a_written));  // inv 5 fills
            assert(!(f_w_rd && !f_w_written));  // inv 5 fills
            assert(!(f_a_hit && f_a_read && act_in_use[f_ar]));  // inv 5 fills
            assert(!(f_w_hit && f_w_read && wgt_in_use[f_wr]));  // inv 5 fills
            assert(f_alevel[AA] ? f_a_written : (f_aw >= f_alevel[AA-1:0] || f_a_written));  // inv 5 fills
            assert(f_wlevel[WA] ? f_w_written : (f_ww >= f_wlevel[WA-1:0] || f_w_written));  // inv 5 fills
            assert(!f_a_read || f_alevel[AA] || f_aw < f_alevel[AA-1:0]);  // inv 5 fills
            assert(!f_w_read || f_wlevel[WA] || f_ww < f_wlevel[WA-1:0]);  // inv 5 fills
        end
    end
`endif
endmodule
