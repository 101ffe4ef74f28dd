// ROWS x COLS systolic array of weight-stationary PEs. Row r = input channel r of a tile, column c =
// output channel c. Tokens enter each row from the west (row r skewed by r cycles by the L0), psums start
// at zero on the north edge and leave on the south edge, column c one cycle after column c-1.
// A token's activation and valid bit travel per row (a_west, valid_west, skewed; each PE passes them east),
// its control (wsel, mode, os, first, wl) once: it enters with PE (0, 0)'s token (wsel_in .. wl_in) and
// PE (r, c) sees it r + c cycles later, as every PE of anti-diagonal r + c does, so one register per
// diagonal (g_diag) carries it, not one per PE and skew stage: the same values in the same cycles, fewer
// registers (the 8x8 core's flip-flops, docs/synth.md) and much less for a simulator to move each cycle
// (docs/network.md#simulation-speed).
// Every link is its own wire (a generate-local net): Icarus is orders of magnitude slower when PEs are
// wired through slices of one wide vector.
//
// The weight memory is here too, one 1R1W bank per anti-diagonal d = r + c: a weight word holds a
// whole tile, PE (r, c)'s low weight at [(r*COLS+c)*W_W +: W_W] (the only one used with 4-bit
// activations) and its high weight at ROWS*COLS*W_W + the same offset; a write stores each PE's pair in its
// diagonal's bank (every bank, one address). Weight-stationary: a preload (wgt_pre, asked a cycle ahead: bank
// 0's read is registered like core.v's token lanes) reads bank 0 in the cycle before its weight-load token
// enters row 0; that token reaches PE (r, c) r + c cycles later (the L0 skew
// delays row r by r cycles, each PE one more), so the read address passes down the banks a cycle per bank
// and bank d's data goes straight to the PEs of diagonal d in the cycle their token is there. No weight
// waits in a register for its PE: a row's whole payload used to ride through the skew and east through
// every PE (about 3,600 of the 8x8 core's 9,573 flip-flops, docs/synth.md). Output-stationary: while a command
// runs (wgt_steps) every bank reads wgt_raddr each cycle, and wgt_north carries the word's low COLS*2*W_W bits
// the cycle after (a step's word in the cycle after its step).
// The banks sit in this module, not in the core, because each PE reads a slice of its own bank's data: a
// ROWS*COLS*2*W_W-bit port sliced per PE is what Icarus is slow on. Every bank holds two regions of WGT_DEPTH
// words, rounded up to a power of two (the top address bit: the command's or the host write's region): the host
// writes one through the write port while the reads use the other; pre_region says which a preload still reads.
module mac_array #(
    parameter integer ROWS       = 8,
    parameter integer COLS       = 8,
    parameter integer A_W        = 4,
    parameter integer W_W        = 4,
    parameter integer PSUM_W     = 16,
    parameter integer WGT_DEPTH  = 256,
    parameter integer FAULT_ROW  = 0,
    parameter integer FAULT_COL  = 0,
    parameter integer FAULT_BIT  = -1
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      wgt_we,         // host write of a weight word
    input  wire [$clog2(WGT_DEPTH):0] wgt_waddr,     // {region, word}
    input  wire [2*ROWS*COLS*W_W-1:0] wgt_wdata,
    input  wire                      wgt_pre,        // a preload: bank 0 reads wgt_raddr next cycle, bank d d cycles later
    input  wire                      wgt_steps,      // output-stationary: every bank reads wgt_raddr every cycle (the
                                                     // read of a cycle with no step is read again; nothing preloads)
    input  wire [$clog2(WGT_DEPTH):0] wgt_raddr,     // {region, word}
    output wire [COLS*2*W_W-1:0]     wgt_north,      // the step's word's low COLS*2*W_W bits, the cycle after
    output wire                      preloading,     // a preload still has banks to read
    output wire [1:0]                pre_region,     // ... in region 1, region 0 (bit per region)
    input  wire [ROWS*A_W-1:0]       a_west,
    input  wire [ROWS-1:0]           valid_west,
    input  wire                      wsel_in,        // the control of the token entering PE (0, 0) this cycle
    input  wire                      mode_in,
    input  wire                      os_in,
    input  wire                      first_in,
    input  wire                      wl_in,
    input  wire [COLS*2*W_W-1:0]     w_north,        // output-stationary: column c's step weights {hi, lo}
    output wire [COLS*PSUM_W-1:0]    p_south,
    output wire [COLS-1:0]           valid_south,
    output wire [COLS*PSUM_W-1:0]    p_north,        // output-stationary: finished sums leaving the top
    output wire [COLS-1:0]           valid_north
);
    localparam integer WA = $clog2(WGT_DEPTH) + 1;   // {region, word}
    localparam integer WW = ROWS * COLS * W_W;   // one half of a weight word
    localparam integer ND = ROWS + COLS - 1;     // anti-diagonals: one weight bank each
    // a token's control bits in its diagonal's register (g_diag's ctl)
    localparam integer C_WSEL = 4, C_MODE = 3, C_OS = 2, C_FIRST = 1, C_WL = 0;
    wire [ND-1:0] pre_read;     // bank d reads a preload this cycle (bank 0's d cycles ago, for d > 0)
    wire [ND-1:0] pre_hi;       // ... in region 1
    genvar r, c, d, k, j;
    generate
        for (d = 0; d < ND; d = d + 1) begin : g_bank
            localparam integer RLO = (d > COLS - 1) ? d - (COLS - 1) : 0;   // the diagonal's first row
            localparam integer RHI = (d < ROWS - 1) ? d : ROWS - 1;         // and its last
            localparam integer N   = RHI - RLO + 1;                         // its PEs
            wire          pre_en;
            wire [WA-1:0] pre_addr;
            if (d == 0) begin : g_head     // a cycle after the sequencer's preload: its token waits in core.v's tok_q
                reg          en_q;
                reg [WA-1:0] addr_q;
                always @(posedge clk) begin
                    en_q   <= rst ? 1'b0 : wgt_pre;
                    addr_q <= wgt_raddr;
                end
                assign pre_en   = en_q;
                assign pre_addr = addr_q;
            end else begin : g_down
                reg          en_q;
                reg [WA-1:0] addr_q;    // not reset: read only with en_q
                always @(posedge clk) begin
                    en_q   <= rst ? 1'b0 : g_bank[d-1].pre_en;
                    addr_q <= g_bank[d-1].pre_addr;
                end
                assign pre_en   = en_q;
                assign pre_addr = addr_q;
            end
            assign pre_read[d] = pre_en;
            assign pre_hi[d]   = pre_en && pre_addr[WA-1];
            wire [N*2*W_W-1:0] wdata, rdata;   // PE (RLO+k, d-RLO-k)'s {high, low} at [k*2*W_W +: 2*W_W]
            for (k = 0; k < N; k = k + 1) begin : g_pe
                localparam integer I = (RLO + k) * COLS + (d - RLO - k);   // the PE, flattened
                assign wdata[k*2*W_W +: 2*W_W] = {wgt_wdata[WW + I*W_W +: W_W], wgt_wdata[I*W_W +: W_W]};
            end
            sram_1r1w #(.WIDTH(N*2*W_W), .DEPTH(1 << WA)) u_bank (   // 2 regions of WGT_DEPTH rounded up to 2^n
                .clk(clk), .ren(pre_en || wgt_steps), .raddr(wgt_steps ? wgt_raddr : pre_addr), .rdata(rdata),
                .we(wgt_we), .waddr(wgt_waddr), .wdata(wdata));
        end
        // The banks' data as a weight word's low COLS*2*W_W bits, which alone go north: its W_W-bit chunk j is
        // PE j's low weight, or, past the word's low half (a one-row array), PE j - ROWS*COLS's high weight. The
        // whole word (2*WW bits from 2*ROWS*COLS parts) is never put together: a simulator evaluates such a
        // vector again whenever any bank's data changes (Icarus, 64x64: 32,768 bits at each bank's read).
        for (j = 0; j < 2*COLS; j = j + 1) begin : g_nword
            localparam integer HI = (j >= ROWS*COLS) ? 1 : 0;
            localparam integer I  = j - HI*ROWS*COLS;                 // the PE, flattened
            localparam integer R  = I / COLS;
            localparam integer C  = I % COLS;
            localparam integer K  = (R + C > COLS - 1) ? COLS - 1 - C : R;   // its place in bank R + C
            assign wgt_north[j*W_W +: W_W] = g_bank[R+C].rdata[K*2*W_W + HI*W_W +: W_W];
        end
    // every bank's read still to come, bank 0's included (a cycle after the sequencer asked for it), keeps the
    // host out of its region
    assign preloading = pre_read != {ND{1'b0}};
    assign pre_region = {pre_hi != {ND{1'b0}}, (pre_read & ~pre_hi) != {ND{1'b0}}};
        // The token's control per anti-diagonal: diagonal d's in the cycle its PEs hold the token, d cycles after
        // PE (0, 0); one diagonal past the last (d = ROWS + COLS - 1) holds the bottom row's tokens as they leave
        // south, whose dataflow says whether a psum leaves with them. One 5-bit register per diagonal, not five
        // 1-bit ones: Verilator copies it in one operation (the whole network 1.08x the cycles/s), while Icarus
        // re-evaluates every PE of the diagonal when any bit changes (slower on a 16x16 output-stationary test:
        // docs/synth.md#the-tokens-control-per-anti-diagonal-twenty-fifth-session). Reset: the weight load, which
        // acts on its own (a load caught by a reset must not write a buffer afterwards). The rest only qualifies
        // a valid token, and every valid bit and has_block is reset: a stale os with first only clears a sum and
        // has_block a reset has cleared already (the sequencer's own tok_os and tok_first are not reset either).
        for (d = 0; d <= ND; d = d + 1) begin : g_diag
            /* verilator lint_off UNUSEDSIGNAL */     // past the last diagonal only os is read
            wire [4:0] ctl;     // {wsel, mode, os, first, wl}: the C_* bits below
            /* verilator lint_on UNUSEDSIGNAL */
            if (d == 0) begin : g_src
                assign ctl = {wsel_in, mode_in, os_in, first_in, wl_in};
            end else begin : g_q
                reg [4:0] q;
                always @(posedge clk) q <= {g_diag[d-1].ctl[C_WSEL:C_FIRST], !rst && g_diag[d-1].ctl[C_WL]};
                assign ctl = q;
            end
        end
        for (r = 0; r < ROWS; r = r + 1) begin : g_row
            for (c = 0; c < COLS; c = c + 1) begin : g_col
                // the east outputs of the last column go nowhere
                /* verilator lint_off UNUSEDSIGNAL */
                wire [A_W-1:0]           a_i, a_o;
                wire                     v_i, v_o;
                /* verilator lint_on UNUSEDSIGNAL */
                wire signed [PSUM_W-1:0] p_i, p_o, u_i, u_o;
                wire                     uv_i, uv_o;
                if (c == 0) begin : g_west
                    assign a_i = a_west[r*A_W +: A_W];
                    assign v_i = valid_west[r];
                end else begin : g_link
                    assign a_i = g_row[r].g_col[c-1].a_o;
                    assign v_i = g_row[r].g_col[c-1].v_o;
                end
                // the top row's north input: zero for weight-stationary tokens, the step weights otherwise
                if (r == 0) begin : g_north
                    assign p_i = {{(PSUM_W - 2*W_W){1'b0}}, w_north[c*2*W_W +: 2*W_W]};
                end else begin : g_down
                    assign p_i = g_row[r-1].g_col[c].p_o;
                end
                if (r == ROWS - 1) begin : g_bottom
                    assign u_i  = {PSUM_W{1'b0}};
                    assign uv_i = 1'b0;
                end else begin : g_up
                    assign u_i  = g_row[r+1].g_col[c].u_o;
                    assign uv_i = g_row[r+1].g_col[c].uv_o;
                end
                pe #(
                    .A_W(A_W), .W_W(W_W), .PSUM_W(PSUM_W),
                    .STUCK_BIT((r == FAULT_ROW && c == FAULT_COL) ? FAULT_BIT : -1)
                ) u_pe (
                    .clk(clk), .rst(rst),
                    .a_in(a_i), .valid_in(v_i), .wsel_in(g_diag[r+c].ctl[C_WSEL]), .mode_in(g_diag[r+c].ctl[C_MODE]),
                    .os_in(g_diag[r+c].ctl[C_OS]), .first_in(g_diag[r+c].ctl[C_FIRST]), .wl_in(g_diag[r+c].ctl[C_WL]),
                    .wl_w_in(g_bank[r+c].rdata[((r + c > COLS - 1) ? COLS - 1 - c : r)*2*W_W +: 2*W_W]),
                    .a_out(a_o), .valid_out(v_o),
                    .p_in(p_i), .p_out(p_o), .up_in(u_i), .up_v_in(uv_i), .up_out(u_o), .up_v_out(uv_o)
                );
            end
        end
        // The edges' vectors, each put together by one chain of concatenations, columns 0..c in _ps of column
        // c: a net assigned slice by slice is one Icarus resolves again, bit by bit, whenever any slice changes
        // (the bottom row's psums change every cycle: 11% of an 8x8 layer's simulation with the OFIFO's and
        // core.v's to_ofifo, docs/verification.md). The chains repeat the edge ports' bits: their names start
        // with an underscore, which Verilator's toggle coverage leaves out.
        for (c = 0; c < COLS; c = c + 1) begin : g_edge
            wire [(c+1)*PSUM_W-1:0] _ps, _pn;
            wire [c:0]              _vs, _vn;
            if (c == 0) begin : g_first
                assign _ps = g_row[ROWS-1].g_col[0].p_o;
                assign _vs = g_row[ROWS-1].g_col[0].v_o && !g_diag[ROWS].ctl[C_OS];
                assign _pn = g_row[0].g_col[0].u_o;
                assign _vn = g_row[0].g_col[0].uv_o;
            end else begin : g_next
                assign _ps = {g_row[ROWS-1].g_col[c].p_o, g_edge[c-1]._ps};
                assign _vs = {g_row[ROWS-1].g_col[c].v_o && !g_diag[ROWS+c].ctl[C_OS], g_edge[c-1]._vs};
                assign _pn = {g_row[0].g_col[c].u_o, g_edge[c-1]._pn};
                assign _vn = {g_row[0].g_col[c].uv_o, g_edge[c-1]._vn};
            end
        end
        assign p_south     = g_edge[COLS-1]._ps;
        assign valid_south = g_edge[COLS-1]._vs;   // output-stationary tokens carry no psum
        assign p_north     = g_edge[COLS-1]._pn;
        assign valid_north = g_edge[COLS-1]._vn;
    endgenerate
endmodule
