// Synchronous SRAM with one read and one write port (read data the next cycle; a read of the address
// being written in the same cycle returns the old value). The accumulator needs a read-modify-write per
// cycle to keep up with the array, which a single-port macro cannot do.
module sram_1r1w #(
    parameter integer WIDTH = 128,
    parameter integer DEPTH = 256
) (
    input  wire                     clk,
    input  wire                     ren,
    input  wire [$clog2(DEPTH)-1:0] raddr,
    output reg  [WIDTH-1:0]         rdata,
    input  wire                     we,
    input  wire [$clog2(DEPTH)-1:0] waddr,
    input  wire [WIDTH-1:0]         wdata
);
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    always @(posedge clk) begin
        if (ren) rdata <= mem[raddr];
        if (we)  mem[waddr] <= wdata;
    end
endmodule
