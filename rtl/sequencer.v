// Sequencer: turns one command into the token stream of a whole output-channel tile.
//
// Command and tag fields: rtl/include/fields.vh (generated from accel_host/fields.py, the one definition).
// For each fold (ic outer, kij = 3*ki + kj inner) it streams only the oh x ow positions that feed an
// output: padded position (oy+ki)*pw + ox + kj of tile ic, accumulated at acc_base + oy*ow + ox.
// The weights of fold f+1 ride on the first token of fold f (see pe.v); one bubble token carries fold 0's.
`include "fields.vh"
module sequencer #(
    parameter integer FOLD_GAP = 0    // fault injection (tests only): idle cycles after every fold, i.e. the
                                      // fold overlap lost; the performance guard must notice
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             cmd_valid,
    output wire             cmd_ready,
    input  wire [`CMD_W-1:0] cmd_data,
    input  wire             credit_ok,
    output wire             act_ren,
    output wire [15:0]      act_raddr,
    output wire             wgt_ren,
    output wire [15:0]      wgt_raddr,
    output wire             issue,       // a token is issued this cycle (its SRAM read starts now)
    output wire [`TAG_W-1:0] tag,        // fields TAG_* of fields.vh
    output reg              tok_valid,   // the token whose SRAM data arrives this cycle
    output reg              tok_wl,
    output reg              tok_wsel,
    output reg              tok_a2,      // the token's activation mode (2-bit when set)
    output wire             idle
);
    localparam [1:0] S_IDLE = 2'd0, S_PRE = 2'd1, S_RUN = 2'd2;
    reg [1:0]  state;
    reg [15:0] act_base, act_stride, wgt_base, acc_base, fold;
    reg [7:0]  pw, oh, ow, n_ic, ox, oy, ic;
    reg [1:0]  ki, kj;
    reg        relu, clr, emit, wsel, a2;
    reg [15:0] id;

    wire [3:0]  kij       = {2'b00, ki} * 4'd3 + {2'b00, kj};
    wire        last_pos  = (ox == ow - 8'd1) && (oy == oh - 8'd1);
    wire        first_pos = (ox == 8'd0) && (oy == 8'd0);
    wire        last_fold = (ic == n_ic - 8'd1) && (ki == 2'd2) && (kj == 2'd2);
    wire [15:0] nij       = ({8'd0, oy} + {14'd0, ki}) * {8'd0, pw} + {8'd0, ox} + {14'd0, kj};
    wire [15:0] acc_addr  = acc_base + {8'd0, oy} * {8'd0, ow} + {8'd0, ox};
    wire [15:0] tile_base = act_base + {8'd0, ic} * act_stride;
    wire        cmd_empty = (cmd_data[`CMD_OH] == 8'd0) || (cmd_data[`CMD_OW] == 8'd0) || (cmd_data[`CMD_N_IC] == 8'd0);
    wire        preload_next = issue && first_pos && !last_fold;

    assign cmd_ready = (state == S_IDLE);
    assign idle      = (state == S_IDLE);
    reg  [7:0]  gap;
    assign issue     = (state == S_RUN) && credit_ok && (gap == 8'd0);
    assign act_ren   = issue;
    assign act_raddr = tile_base + nij;
    assign wgt_ren   = (state == S_PRE) || preload_next;
    assign wgt_raddr = (state == S_PRE) ? wgt_base : wgt_base + fold + 16'd1;
    assign tag[`TAG_ACC_ADDR] = acc_addr;
    assign tag[`TAG_NIJ]      = nij;
    assign tag[`TAG_KIJ]      = kij;
    assign tag[`TAG_IC]       = ic;
    assign tag[`TAG_CLEAR]    = clr && (fold == 16'd0);
    assign tag[`TAG_LAST]     = emit && last_fold;
    assign tag[`TAG_RELU]     = relu;
    assign tag[`TAG_ID]       = id;

    always @(posedge clk) begin
        if (rst) begin
            state     <= S_IDLE;
            wsel      <= 1'b0;
            tok_valid <= 1'b0;
            tok_wl    <= 1'b0;
            tok_wsel  <= 1'b0;
            tok_a2    <= 1'b0;
            gap       <= 8'd0;
        end else begin
            if (gap != 8'd0) gap <= gap - 8'd1;
            tok_valid <= issue;
            tok_wl    <= wgt_ren;
            tok_wsel  <= (state == S_PRE) ? ~wsel : wsel;
            tok_a2    <= a2;
            case (state)
                S_IDLE: if (cmd_valid) begin
                    act_base   <= cmd_data[`CMD_ACT_BASE];
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
                    ox <= 8'd0; oy <= 8'd0; ic <= 8'd0; ki <= 2'd0; kj <= 2'd0; fold <= 16'd0;
                    state <= cmd_empty ? S_IDLE : S_PRE;   // a command with nothing to stream is dropped
                end
                S_PRE: state <= S_RUN;
                S_RUN: if (issue) begin
                    if (last_pos) begin
                        if (FOLD_GAP > 0 && !last_fold) gap <= FOLD_GAP[7:0];
                        ox   <= 8'd0;
                        oy   <= 8'd0;
                        fold <= fold + 16'd1;
                        wsel <= ~wsel;
                        if (kj != 2'd2) kj <= kj + 2'd1;
                        else begin
                            kj <= 2'd0;
                            if (ki != 2'd2) ki <= ki + 2'd1;
                            else begin
                                ki <= 2'd0;
                                ic <= ic + 8'd1;
                            end
                        end
                        if (last_fold) state <= S_IDLE;
                    end else if (ox == ow - 8'd1) begin
                        ox <= 8'd0;
                        oy <= oy + 8'd1;
                    end else begin
                        ox <= ox + 8'd1;
                    end
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule
