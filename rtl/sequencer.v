// Sequencer: turns one command into the token stream of an output-channel tile, in either dataflow.
//
// Command and tag fields: rtl/include/fields.vh (generated from accel_host/fields.py, the one definition).
//
// Weight-stationary (os = 0): for each fold (ic outer, kij = 3*ki + kj inner) it streams only the oh x ow
// positions that feed an output: padded position (oy+ki)*pw + ox + kj of tile ic, accumulated at
// acc_base + oy*ow + ox. The weights of fold f+1 ride on the first token of fold f (see pe.v); one bubble
// token carries fold 0's. One tag per token.
//
// Output-stationary (os = 1): a block is ROWS output positions (one per array row) x COLS output channels;
// each token is one step of the reduction: activation word act_base + b*act_stride + t (ROWS activations
// of step t for block b's positions, laid out by the host) and weight word wgt_base + t (the step's weight
// per column, sent north-to-south). oh = blocks, ow = positions of the last block, n_ic = input-channel
// steps per kernel position (T = 9*n_ic steps per block). The first token of each block (first) makes every
// PE hand its finished sum to the upward drain chain (pe.v); a flush token after the last block releases the
// last sums. For each released block the sequencer pushes one tag per row (acc_base + b*ROWS + r), after
// reserving that many credits. A command of the other dataflow is accepted only once the core is drained.
// Either dataflow waits before reading a word that a fill has not written yet (act_ok, wgt_ok: core.v).
`include "fields.vh"
module sequencer #(
    parameter integer ROWS     = 8,
    parameter integer FOLD_GAP = 0    // fault injection (tests only): idle cycles after every fold, i.e. the
                                      // fold overlap lost; the performance guard must notice
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             cmd_valid,
    output wire             cmd_ready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [`CMD_W-1:0] cmd_data,    // its fill bits are the core's (core.v), not the sequencer's
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [15:0]      credits_free, // credits not reserved by vectors in flight
    input  wire             drained,      // no vector in flight anywhere (a dataflow switch waits for it)
    input  wire             act_ok,       // act_raddr's word is written (a fill's level is above it: core.v)
    input  wire             wgt_ok,       // wgt_raddr's word likewise
    output wire             act_ren,
    output wire [15:0]      act_raddr,
    output wire             wgt_ren,
    output wire [15:0]      wgt_raddr,
    output wire             wgt_os,       // the read is an output-stationary step's (every weight bank at once)
    output wire             os_run,       // an output-stationary command streams (its steps' weight reads)
    output wire             tag_push,     // a tag goes into the tag FIFO this cycle
    output wire [7:0]       reserve,      // credits reserved this cycle (vectors that will reach the OFIFO)
    output wire [`TAG_W-1:0] tag,         // fields TAG_* of fields.vh
    output reg              tok_valid,    // the token whose SRAM data arrives this cycle
    output reg              tok_wl,
    output reg              tok_wsel,
    output reg              tok_a2,       // the token's activation mode (2-bit when set)
    output reg              tok_os,       // the token's dataflow (output-stationary when set)
    output reg              tok_first,    // output-stationary: the first step of a block, or the flush
    output reg  [7:0]       tok_rows,     // output-stationary: rows holding a position of this block (the
                                          // last block may be partial; rows below it must not drain a sum)
    output reg              act_region,   // the running command's memory regions (read only while not idle:
    output reg              wgt_region,   // not reset)
    output wire             idle,
    output reg              last_os       // the dataflow of the last command accepted (output-stationary when
                                          // set); not reset: read only while not drained, so after a command
                                          // since reset set it (core.v's formal properties read it too)
);
    localparam [2:0] S_IDLE = 3'd0, S_PRE = 3'd1, S_RUN = 3'd2, S_OS = 3'd3, S_FLUSH = 3'd4;
    reg [2:0]  state;
    reg [15:0] act_stride, wgt_base, acc_base;
    reg        first_fold;   // set as a command starts, cleared as its first fold ends: that fold's sums start
                             // from 0 when `clr` (the only thing a fold count was read for)
    reg [7:0]  pw, oh, ow, ox, oy;
    reg [`CMD_N_IC_W-1:0] n_ic, ic;
    reg [1:0]  ki, kj;
    reg        relu, clr, emit, wsel, a2;
    reg [15:0] id;

    // ---- weight-stationary
    wire [3:0]  kij       = {1'b0, ki, 1'b0} + {2'b00, ki} + {2'b00, kj};   // 3*ki + kj without a multiplier
    wire        last_pos  = (ox == ow - 8'd1) && (oy == oh - 8'd1);
    wire        first_pos = (ox == 8'd0) && (oy == 8'd0);
    wire        last_fold = (ic == n_ic - 1'b1) && (ki == 2'd2) && (kj == 2'd2);
    // the products (oy + ki) * pw, oy * ow, ic * act_stride and blk * act_stride are kept as running sums,
    // updated as their counters step (equal modulo 2^16): no multiplier sits between a counter and a memory
    // address (synthesis put one DSP block in the critical path, docs/synth.md)
    reg  [15:0] fold_nij;   // ki * pw: the current fold's first row
    reg  [15:0] row_nij;    // (oy + ki) * pw
    reg  [15:0] tile_addr;  // act_base + ic * act_stride
    reg  [15:0] row_addr;   // tile_addr + row_nij, kept apart: the read address is one add shorter
    reg  [15:0] acc_row;    // acc_base + oy * ow
    reg  [15:0] blk_addr;   // output-stationary: act_base + blk * act_stride
    // The memories' read addresses as registers, stepped with the counters they are sums of (act_raddr: row_addr
    // + ox + kj, or blk_addr + t; wgt_raddr: wgt_base + fold + 1, wgt_base in S_PRE, or wgt_base + t): the fills'
    // checks (act_ok, wgt_ok: the address against a level, core.v) decide this cycle's issue, and with the sums
    // in front of them the adders, the compare, the issue and the counters made one path (docs/synth.md).
    reg  [15:0] act_addr, wgt_addr;
    wire [15:0] nij       = row_nij + {8'd0, ox} + {14'd0, kj};
    wire [15:0] acc_addr  = acc_row + {8'd0, ox};
    wire        cmd_empty = (cmd_data[`CMD_OH] == 8'd0) || (cmd_data[`CMD_OW] == 8'd0) ||
                            (cmd_data[`CMD_N_IC] == {`CMD_N_IC_W{1'b0}});
    wire        cmd_os    = cmd_data[`CMD_OS];
    // an output-stationary command whose last block has more positions than the array has rows would reserve
    // more credits at its flush than a block may hold (formal/core.sby found it): the core drops it like an
    // empty command, and the host library refuses to send one (Command.check)
    wire        cmd_unfit = cmd_os && (cmd_data[`CMD_OW] > ROWS[7:0]);
    reg  [7:0]  gap;
    wire        issue_ok  = (state == S_RUN) && (credits_free != 16'd0);
    // a token waits for its activation word, and the first token of a fold for the next fold's weight word
    // (a fill may still be writing them)
    wire        words_ok  = act_ok && (wgt_ok || !first_pos || last_fold);
    wire        issue_ws  = issue_ok && (gap == 8'd0) && words_ok;   // gap: the FOLD_GAP knob (tests only)
    wire        preload_next = issue_ws && first_pos && !last_fold;
    wire        preload_0 = (state == S_PRE) && wgt_ok;   // fold 0's weights, once written

    // ---- output-stationary
    reg  [15:0] t, t_last;           // step within the block, and the block's last step (9*n_ic - 1)
    reg  [7:0]  blk;                 // block
    reg  [7:0]  pend_n, pend_r, pend_blk;   // tags still to push for a released block ...
    reg  [15:0] pend_base, pend_id;         // ... of this command (the next one may start meanwhile)
    reg         pend_relu;
    wire        pushing   = (pend_r != pend_n);
    wire        releases  = (t == 16'd0) && (blk != 8'd0);   // this step's first flag frees block blk-1
    wire        room      = (credits_free >= ROWS[15:0]) && !pushing;
    wire        issue_os  = (state == S_OS) && (!releases || room) && act_ok && wgt_ok;
    wire        flush     = (state == S_FLUSH) && room;
    wire [7:0]  last_rows = ow;      // positions of the last block

    assign cmd_ready = (state == S_IDLE) && (cmd_os == last_os || drained);
    assign idle      = (state == S_IDLE);
    assign act_ren   = issue_ws || issue_os;
    assign act_raddr = act_addr;
    assign wgt_ren   = preload_0 || preload_next || issue_os;
    assign wgt_os    = issue_os;
    assign os_run    = (state == S_OS);
    assign wgt_raddr = wgt_addr;
    assign tag_push  = issue_ws || pushing;
    assign reserve   = issue_ws ? 8'd1
                     : (issue_os && releases) ? ROWS[7:0]
                     : flush ? last_rows : 8'd0;
    // a WS tag with every token; an OS tag per drained row (only while no WS command runs: drained between)
    wire [15:0] os_addr = pend_base + {8'd0, pend_blk} * ROWS[15:0] + {8'd0, pend_r};
    assign tag[`TAG_ACC_ADDR] = pushing ? os_addr : acc_addr;
    assign tag[`TAG_NIJ]      = pushing ? {8'd0, pend_r} : nij;
    assign tag[`TAG_KIJ]      = pushing ? 4'hF : kij;          // 15 marks a finished output-stationary sum
    assign tag[`TAG_IC]       = pushing ? pend_blk : ic[7:0];   // WS mappings keep n_ic <= 255
    assign tag[`TAG_CLEAR]    = pushing ? 1'b1 : clr && first_fold;
    assign tag[`TAG_LAST]     = pushing ? 1'b1 : emit && last_fold;
    assign tag[`TAG_RELU]     = pushing ? pend_relu : relu;
    assign tag[`TAG_ID]       = pushing ? pend_id : id;

    // not reset: a token's mode and block-start flag are data (read only with tok_valid or tok_os); its
    // weight-load and dataflow flags follow the reset state one cycle later; mutation testing found each
    // of those reset values unobservable
    always @(posedge clk) begin
        tok_a2    <= a2;
        tok_first <= (issue_os && t == 16'd0) || flush;
        tok_wl    <= preload_0 || preload_next;
        tok_os    <= issue_os || flush;
    end

    always @(posedge clk) begin
        if (rst) begin
            state     <= S_IDLE;
            wsel      <= 1'b0;
            tok_valid <= 1'b0;
            tok_wsel  <= 1'b0;
            tok_rows  <= ROWS[7:0];
            gap       <= 8'd0;
            pend_n    <= 8'd0;
            pend_r    <= 8'd0;
        end else begin
            if (gap != 8'd0) gap <= gap - 8'd1;
            tok_valid <= issue_ws || issue_os;
            tok_wsel  <= preload_0 ? ~wsel : wsel;
            tok_rows  <= (state == S_OS && blk == oh - 8'd1) ? last_rows : ROWS[7:0];
            if (pushing) pend_r <= pend_r + 8'd1;
            if ((issue_os && releases) || flush) begin
                pend_blk  <= blk - 8'd1;
                pend_n    <= flush ? last_rows : ROWS[7:0];
                pend_r    <= 8'd0;
                pend_base <= acc_base;
                pend_id   <= id;
                pend_relu <= relu;
            end
            case (state)
                S_IDLE: if (cmd_valid && cmd_ready) begin
                    act_stride <= cmd_data[`CMD_ACT_STRIDE];
                    wgt_base   <= cmd_data[`CMD_WGT_BASE];
                    acc_base   <= cmd_data[`CMD_ACC_BASE];
                    pw         <= cmd_data[`CMD_PW];
                    oh         <= cmd_data[`CMD_OH];
                    ow         <= cmd_data[`CMD_OW];
                    n_ic       <= cmd_data[`CMD_N_IC];
                    relu       <= cmd_data[`CMD_RELU];
                    clr        <= cmd_data[`CMD_CLEAR];
                    emit       <= cmd_data[`CMD_EMIT];
                    id         <= cmd_data[`CMD_ID];
                    a2         <= cmd_data[`CMD_A2];
                    act_region <= cmd_data[`CMD_ACT_REGION];
                    wgt_region <= cmd_data[`CMD_WGT_REGION];
                    last_os    <= cmd_os;
                    ox <= 8'd0; oy <= 8'd0; ic <= {`CMD_N_IC_W{1'b0}}; ki <= 2'd0; kj <= 2'd0; first_fold <= 1'b1;
                    fold_nij  <= 16'd0;
                    row_nij   <= 16'd0;
                    tile_addr <= cmd_data[`CMD_ACT_BASE];
                    row_addr  <= cmd_data[`CMD_ACT_BASE];
                    acc_row   <= cmd_data[`CMD_ACC_BASE];
                    blk_addr  <= cmd_data[`CMD_ACT_BASE];
                    act_addr  <= cmd_data[`CMD_ACT_BASE];
                    wgt_addr  <= cmd_data[`CMD_WGT_BASE];
                    t <= 16'd0; blk <= 8'd0;
                    // 9 * n_ic - 1 as a shift and two adds: a multiplier here sat behind the command FIFO's read
                    t_last <= ({{(16 - `CMD_N_IC_W){1'b0}}, cmd_data[`CMD_N_IC]} << 3) +
                              {{(16 - `CMD_N_IC_W){1'b0}}, cmd_data[`CMD_N_IC]} - 16'd1;
                    // a command with nothing to stream, or one that does not fit the array, is dropped
                    state <= (cmd_empty || cmd_unfit) ? S_IDLE : (cmd_os ? S_OS : S_PRE);
                end
                S_PRE: if (wgt_ok) begin
                    state    <= S_RUN;
                    wgt_addr <= wgt_addr + 16'd1;     // fold 1's weights, read with fold 0's first token
                end
                S_RUN: if (issue_ws) begin
                    if (last_pos) begin
                        if (FOLD_GAP > 0 && !last_fold) gap <= FOLD_GAP[7:0];
                        ox   <= 8'd0;
                        oy   <= 8'd0;
                        first_fold <= 1'b0;
                        wsel <= ~wsel;
                        acc_row <= acc_base;
                        wgt_addr <= wgt_addr + 16'd1;
                        if (kj != 2'd2) begin
                            kj       <= kj + 2'd1;
                            row_nij  <= fold_nij;
                            row_addr <= tile_addr + fold_nij;
                            act_addr <= tile_addr + fold_nij + {14'd0, kj} + 16'd1;
                        end else begin
                            kj <= 2'd0;
                            if (ki != 2'd2) begin
                                ki       <= ki + 2'd1;
                                fold_nij <= fold_nij + {8'd0, pw};
                                row_nij  <= fold_nij + {8'd0, pw};
                                row_addr <= tile_addr + fold_nij + {8'd0, pw};
                                act_addr <= tile_addr + fold_nij + {8'd0, pw};
                            end else begin
                                ki        <= 2'd0;
                                ic        <= ic + 1'b1;
                                fold_nij  <= 16'd0;
                                row_nij   <= 16'd0;
                                tile_addr <= tile_addr + act_stride;
                                row_addr  <= tile_addr + act_stride;
                                act_addr  <= tile_addr + act_stride;
                            end
                        end
                        if (last_fold) state <= S_IDLE;
                    end else if (ox == ow - 8'd1) begin
                        ox       <= 8'd0;
                        oy       <= oy + 8'd1;
                        row_nij  <= row_nij + {8'd0, pw};
                        row_addr <= row_addr + {8'd0, pw};
                        act_addr <= row_addr + {8'd0, pw} + {14'd0, kj};
                        acc_row  <= acc_row + {8'd0, ow};
                    end else begin
                        ox       <= ox + 8'd1;
                        act_addr <= act_addr + 16'd1;
                    end
                end
                S_OS: if (issue_os) begin
                    if (t == t_last) begin
                        t        <= 16'd0;
                        blk      <= blk + 8'd1;
                        blk_addr <= blk_addr + act_stride;
                        act_addr <= blk_addr + act_stride;
                        wgt_addr <= wgt_base;
                        if (blk == oh - 8'd1) state <= S_FLUSH;
                    end else begin
                        t        <= t + 16'd1;
                        act_addr <= act_addr + 16'd1;
                        wgt_addr <= wgt_addr + 16'd1;
                    end
                end
                S_FLUSH: if (flush) state <= S_IDLE;   // pend_blk above took blk - 1, the last block
                default: state <= S_IDLE;
            endcase
        end
    end
`ifdef FORMAL
    // auxiliary, asserted in every core task that reads this file (prove_sram's induction needs it; nothing is
    // assumed): a running command's dataflow is last_os
    reg f_past = 1'b0;
    always @(posedge clk) f_past <= 1'b1;
    always @(*) if (f_past && !rst) begin
        if (state == S_PRE || state == S_RUN) assert(!last_os);     // aux dataflow
        if (state == S_OS || state == S_FLUSH) assert(last_os);     // aux dataflow
    end
`endif
endmodule
