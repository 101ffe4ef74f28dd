// Synchronous SRAM, one read and one write port (read data the next cycle; a same-cycle read of the word being
// written returns the old value in simulation, which no user needs: the SFU forwards it, the core's regions
// keep host writes off what is read; synthesis is told so, no_rw_check: no collision bypass around a BRAM).
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
    (* no_rw_check *) reg [WIDTH-1:0] mem [0:DEPTH-1];
    always @(posedge clk) begin
        if (ren) rdata <= mem[raddr];
        if (we)  mem[waddr] <= wdata;
    end
endmodule
