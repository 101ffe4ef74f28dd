// Synchronous first-word-fall-through FIFO with valid/ready on both sides and an occupancy count.
module fifo #(
    parameter integer WIDTH = 8,
    parameter integer DEPTH = 16
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     in_valid,
    output wire                     in_ready,
    input  wire [WIDTH-1:0]         in_data,
    output wire                     out_valid,
    input  wire                     out_ready,
    output wire [WIDTH-1:0]         out_data,
    output reg  [$clog2(DEPTH+1)-1:0] count
);
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [AW-1:0]    rd_ptr, wr_ptr;
    wire push = in_valid && in_ready;
    wire pop  = out_valid && out_ready;

    assign in_ready  = (count != DEPTH[$clog2(DEPTH+1)-1:0]);
    assign out_valid = (count != 0);
    // zero while empty: no X leaves a FIFO whose storage was never written (the 4-state check)
    assign out_data  = out_valid ? mem[rd_ptr] : {WIDTH{1'b0}};

    function [AW-1:0] next_ptr(input [AW-1:0] p);
        next_ptr = (p == DEPTH[AW-1:0] - 1'b1 || DEPTH == 1) ? {AW{1'b0}} : p + 1'b1;
    endfunction

    always @(posedge clk) begin
        if (rst) begin
            rd_ptr <= {AW{1'b0}};
            wr_ptr <= {AW{1'b0}};
            count  <= 0;
        end else begin
            if (push) begin
                mem[wr_ptr] <= in_data;
                wr_ptr      <= next_ptr(wr_ptr);
            end
            if (pop) rd_ptr <= next_ptr(rd_ptr);
            if (push && !pop) count <= count + 1'b1;
            else if (pop && !push) count <= count - 1'b1;
        end
    end
`ifdef FORMAL
    // Properties proven by `make formal` (formal/fifo.sby, k-induction): the count stays within 0..DEPTH and
    // agrees with the pointers, and the F_IDX-th word pushed is the F_IDX-th word popped, unchanged, for a
    // solver-chosen F_IDX and any data: no loss, no duplicate, no reordering, no overflow. The counters are
    // modulo 256 (DEPTH < 256). The only assumption: reset in the first cycle.
    reg f_past = 1'b0;
    always @(posedge clk) f_past <= 1'b1;
    always @(*) if (!f_past) assume(rst);
    reg  [7:0]       f_pushes, f_pops;
    (* anyconst *) reg [7:0] f_idx;
    reg  [WIDTH-1:0] f_data;
    reg              f_held;
    wire [7:0]       f_ahead = f_idx - f_pops;                    // words before the tracked one
    wire [31:0]      f_slot_x = {{(32 - AW){1'b0}}, rd_ptr} + {24'd0, f_ahead};
    wire [AW-1:0]    f_slot = (f_slot_x >= DEPTH) ? f_slot_x - DEPTH : f_slot_x;
    wire [31:0]      f_wr_x = {{(32 - AW){1'b0}}, rd_ptr} + count;
    wire [AW-1:0]    f_wr = (f_wr_x >= DEPTH) ? f_wr_x - DEPTH : f_wr_x;
    always @(posedge clk) begin
        if (rst) begin
            f_pushes <= 8'd0;
            f_pops   <= 8'd0;
            f_held   <= 1'b0;
        end else begin
            if (push) f_pushes <= f_pushes + 8'd1;
            if (pop)  f_pops   <= f_pops + 8'd1;
            if (push && f_pushes == f_idx) begin
                f_held <= 1'b1;
                f_data <= in_data;
            end
            if (pop && f_pops == f_idx) f_held <= 1'b0;
        end
    end
    always @(*) begin
        if (f_past && !rst) begin
            assert(count <= DEPTH);
            assert(count == f_pushes - f_pops);
            assert(DEPTH == 1 || wr_ptr == f_wr || count == DEPTH);
            assert(count != DEPTH || wr_ptr == rd_ptr);
            assert(rd_ptr < DEPTH && wr_ptr < DEPTH);
            assert(f_held == ({24'd0, f_ahead} < count));
            if (f_held) assert(mem[f_slot] == f_data);
            if (pop && f_pops == f_idx) assert(f_held && out_data == f_data);
        end
    end
`endif
endmodule
