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
endmodule
